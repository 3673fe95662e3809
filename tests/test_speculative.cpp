// Speculative decoding (core/engine/session/speculative.h): greedy output is the target's own greedy
// decoding, token for token, for every k and cache kind; the round counts add up from first
// principles; the acceptance rule draws from the target's distribution (a chi-square test with its
// p-value), and a rule that skips the resampling fails the same test.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "core/engine/kernels/random.h"
#include "core/engine/kernels/softmax.h"
#include "core/engine/model/weights.h"
#include "core/engine/session/draft_verdict.h"
#include "core/engine/session/session.h"
#include "core/engine/session/speculative.h"
#include "core/formats/model_source.h"

using namespace kvscope;

namespace {
const char* const kPrompts[] = {"Anna went to the park and", "The cache keeps the", "Ben gave", "Time"};

// The target's greedy decoding by the ordinary session, cached mode only: another code path.
std::vector<int> plain_greedy(const LoadedModel& target, const std::vector<int>& prompt, int new_tokens) {
  SessionOptions options;
  options.run_uncached = false;
  options.record_attention = options.record_rows = false;
  DecodeSession session(target.model, target.tokenizer, options);
  session.start(prompt, {});
  for (int i = 0; i < new_tokens; ++i) session.step();
  return session.tokens();
}

// Pearson's chi-square statistic of counts against probabilities, and its p-value for 4 degrees of
// freedom (5 categories): the upper tail of chi-square(4) is exp(-x/2) (1 + x/2) in closed form.
double chi_square_p_value_df4(const std::vector<int>& counts, const std::vector<double>& p) {
  int n = 0;
  for (int c : counts) n += c;
  double x = 0.0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double expected = n * p[i];
    x += (counts[i] - expected) * (counts[i] - expected) / expected;
  }
  return std::exp(-x / 2.0) * (1.0 + x / 2.0);
}
}  // namespace

TEST_CASE("speculate: greedy output is the target's own greedy decoding for every k, contiguous and paged", "[speculative]") {
  const LoadedModel target = load_preset("demo-llama");
  const LoadedModel draft = load_preset("demo-llama-draft");
  REQUIRE(draft.model->config().n_layer < target.model->config().n_layer);
  const int new_tokens = 14;
  for (const char* text : kPrompts) {
    const std::vector<int> prompt = target.tokenizer->encode_prompt(text);
    const std::vector<int> expected = plain_greedy(target, prompt, new_tokens);
    for (int block_size : {0, 4})
      for (int k = 1; k <= 6; ++k) {
        INFO(text << " k=" << k << " block size " << block_size);
        SpeculativeDecoder decoder(target.model, draft.model, {k, 0.0f, 0, block_size});
        decoder.start(prompt, new_tokens);
        decoder.run();
        CHECK(decoder.tokens() == expected);
        // Both caches hold every position but the last token's, which is still to be fed.
        CHECK(decoder.target_cache().next_position() == int(expected.size()) - 1);
        CHECK(decoder.draft_cache().next_position() == int(expected.size()) - 1);
        CHECK(decoder.target_passes() == 1 + int(decoder.rounds().size()));
        CHECK(decoder.plain_passes() == new_tokens);
      }
  }
}

TEST_CASE("speculate: each round's counts add up, and the caches roll back exactly the rejected guesses", "[speculative]") {
  const LoadedModel target = load_preset("demo-llama");
  const LoadedModel draft = load_preset("demo-llama-draft");
  const std::vector<int> prompt = target.tokenizer->encode_prompt("Anna went to the park and");
  SpeculativeDecoder decoder(target.model, draft.model, {4, 0.0f, 0, 4});
  decoder.start(prompt, 20);
  int produced = 1;  // the prefill's token
  long drafted = 0, accepted = 0;
  while (!decoder.done()) {
    const int before = decoder.target_cache().next_position();
    const SpeculativeRound& r = decoder.round();
    const int k = int(r.drafted.size());
    CHECK(r.first_position == before);
    CHECK(r.accepted <= k);
    CHECK(r.new_tokens().size() == std::size_t(r.accepted + 1));
    CHECK(r.corrected == (r.accepted < k));
    CHECK(r.target_rows_written == k + 1);
    CHECK(r.draft_rows_written == k + 1);
    CHECK(r.target_rows_rolled_back == k - r.accepted);
    CHECK(r.draft_rows_rolled_back == k - r.accepted);
    CHECK(r.draft_passes == k + 1);
    CHECK(decoder.target_cache().next_position() == before + r.accepted + 1);
    // Greedy: a guess is kept exactly when it is the target's argmax after the one before.
    for (int i = 0; i < r.accepted; ++i) CHECK(r.target_argmax[std::size_t(i)] == r.drafted[std::size_t(i)]);
    if (r.corrected) {
      CHECK(r.target_argmax[std::size_t(r.accepted)] != r.drafted[std::size_t(r.accepted)]);
      CHECK(r.next_id == r.target_argmax[std::size_t(r.accepted)]);
    }
    produced += r.accepted + 1;
    drafted += k;
    accepted += r.accepted;
  }
  CHECK(produced == 20);
  CHECK(decoder.new_token_count() == 20);
  CHECK(decoder.acceptance_rate() == Approx(double(accepted) / double(drafted)));
  // The paged caches said every rollback as a truncate event with its rows.
  std::vector<int> rolled_back, truncated;
  for (const SpeculativeRound& r : decoder.rounds())
    if (r.target_rows_rolled_back > 0) rolled_back.push_back(r.target_rows_rolled_back);
  for (const BlockEvent& e : decoder.target_cache().events())
    if (e.kind == BlockEventKind::Truncate) truncated.push_back(e.count);
  CHECK(truncated == rolled_back);
  CHECK_FALSE(rolled_back.empty());
}

TEST_CASE("speculate: a model drafting for itself has every guess accepted", "[speculative]") {
  const LoadedModel target = load_preset("demo-llama");
  const std::vector<int> prompt = target.tokenizer->encode_prompt("The cache keeps the");
  for (float temperature : {0.0f, 1.0f}) {
    INFO("temperature " << temperature);
    SpeculativeDecoder decoder(target.model, target.model, {3, temperature, 5, 0});
    decoder.start(prompt, 13);  // 1 from the prefill, then 3 rounds of 3 guesses + 1
    decoder.run();
    CHECK(decoder.acceptance_rate() == 1.0);
    CHECK(decoder.rounds().size() == 3);
    CHECK(decoder.target_passes() == 4);
  }
}

TEST_CASE("speculate: the acceptance rule draws exactly from the target's distribution", "[speculative]") {
  const std::vector<double> p = {0.40, 0.25, 0.20, 0.10, 0.05};  // target
  const std::vector<double> q = {0.10, 0.50, 0.05, 0.30, 0.05};  // draft: far from it
  const int trials = 40000;
  SplitMix64 rng(2024);
  std::vector<int> counts(p.size(), 0), skipped_resample(p.size(), 0);
  int accepted = 0;
  for (int t = 0; t < trials; ++t) {
    const int x = draw_index(q, rng.uniform());
    const DraftVerdict v = judge_draft(p, q, x, rng.uniform(), rng.uniform());
    ++counts[std::size_t(v.token)];
    accepted += v.accepted;
    // A broken rule: on rejection, draw again from p itself instead of max(0, p - q).
    ++skipped_resample[std::size_t(v.accepted ? v.token : draw_index(p, rng.uniform()))];
  }
  const double p_value = chi_square_p_value_df4(counts, p);
  INFO("p-value " << p_value);
  CHECK(p_value > 1e-3);
  // The expected acceptance rate is sum_x min(p(x), q(x)) = 0.10 + 0.25 + 0.05 + 0.10 + 0.05 = 0.55.
  CHECK(double(accepted) / trials == Approx(0.55).margin(0.01));
  CHECK(chi_square_p_value_df4(skipped_resample, p) < 1e-6);
}

TEST_CASE("speculate: kvscope-cli speculate --json says what each cache wrote and took back", "[speculative][cli]") {
  const test::CliResult r = test::run_cli(
      "speculate --preset demo-llama --draft demo-llama-draft --k 4 --prompt 'Anna went to the park and' --max-new-tokens 16 --json");
  REQUIRE(r.status == 0);
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  const test::CliResult g = test::run_cli("generate --preset demo-llama --mode cached --prompt 'Anna went to the park and' --max-new-tokens 16 --json");
  REQUIRE(g.status == 0);
  const nlohmann::json plain = nlohmann::json::parse(g.out);
  CHECK(doc["tokens"] == plain["tokens"]);
  CHECK(doc["text"] == plain["text"]);
  int new_tokens = 1, drafted = 0, accepted = 0;
  for (const nlohmann::json& round : doc["rounds"]) {
    const int k = int(round["drafted"].size()), a = round["accepted"];
    CHECK(round["target_rows_rolled_back"] == k - a);
    CHECK(round["draft_rows_rolled_back"] == k - a);
    new_tokens += a + 1;
    drafted += k;
    accepted += a;
  }
  CHECK(new_tokens == 16);
  CHECK(doc["acceptance_rate"].get<double>() == Approx(double(accepted) / drafted));
  CHECK(doc["target_passes"] == 1 + int(doc["rounds"].size()));
  CHECK(doc["plain_passes"] == 16);
}

TEST_CASE("speculate: bad drafts and options are refused in one line", "[speculative][cli]") {
  struct Case {
    std::string args, says;
    int status;
  };
  const Case cases[] = {
      {"--preset demo-llama --draft demo --prompt Time", "vocabulary", 2},
      {"--preset demo-llama --draft no-such-model --prompt Time", "no-such-model", 2},
      {"--preset demo-llama --k -1 --prompt Time", "--k", 2},
      {"--preset demo-llama --prompt Time --max-new-tokens 80", "context length is 64", 1},
      {"--preset demo-mla --block-size 4 --prompt Time", "MLA", 2},
      {"--preset demo-llama --draft-model /no/such/folder --prompt Time", "/no/such/folder", 1},
  };
  for (const Case& c : cases) {
    INFO(c.args);
    const test::CliResult r = test::run_cli("speculate " + c.args);
    CHECK(r.status == c.status);
    CHECK(r.out.empty());
    CHECK(r.err.find(c.says) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

TEST_CASE("speculate: sampled tokens follow the target's own distribution, end to end (5-token vocabulary)", "[speculative]") {
  // Two random Llama-style models over the same 5 ids, different widths; large embeddings make their
  // next-token distributions peaked and unlike each other, so the rule has work to do.
  auto make = [](int d_model, std::uint64_t seed) {
    ModelConfig c;
    c.family = ModelFamily::Llama;
    c.vocab_size = 5, c.context_length = 8, c.d_model = d_model, c.n_head = 2, c.n_layer = 1, c.ff_dim = 2 * d_model;
    c.tied_head = true;
    ModelWeights w = random_weights(c, seed);
    w.token_embedding.f32() *= 8.0f;
    return std::make_shared<const Model>(c, std::move(w));
  };
  const auto target = make(16, 11), draft = make(8, 12);
  const std::vector<int> prompt = {1, 3};
  // The exact distribution of the second new token: sum over the first of p(t1) p(t2 | t1).
  RowVector logits;
  KvCache cache(target->config(), 0);
  target->forward_cached(prompt, cache, 0, logits, nullptr);
  const std::vector<double> first = softmax_double(logits);
  std::vector<double> second(5, 0.0);
  for (int t1 = 0; t1 < 5; ++t1) {
    std::vector<int> context = prompt;
    context.push_back(t1);
    target->forward_uncached(context, 0, logits, nullptr);
    const std::vector<double> p = softmax_double(logits);
    for (int t2 = 0; t2 < 5; ++t2) second[std::size_t(t2)] += first[std::size_t(t1)] * p[std::size_t(t2)];
  }
  std::vector<int> counts(5, 0);
  int rejected = 0;
  const int runs = 6000;
  for (int seed = 0; seed < runs; ++seed) {
    SpeculativeDecoder decoder(target, draft, {3, 1.0f, std::uint64_t(seed), 0});
    decoder.start(prompt, 5);  // the prefill's token, then a round of 3 guesses: its first verdict is token 2
    decoder.round();
    ++counts[std::size_t(decoder.tokens()[3])];
    rejected += decoder.rounds()[0].accepted == 0;  // the first guess itself replaced
  }
  for (double p : second) CHECK(p * runs > 20.0);  // every category expected often enough for chi-square
  const double p_value = chi_square_p_value_df4(counts, second);
  INFO("p-value " << p_value << ", rejected rounds " << rejected);
  CHECK(p_value > 1e-3);
  CHECK(rejected > runs / 20);  // the first guess is often rejected: token 2 then comes from the residual draw
}

TEST_CASE("speculate: greedy equality holds for other families as targets (latent attention, local layers)", "[speculative]") {
  const LoadedModel draft = load_preset("demo-llama-draft");
  for (const char* name : {"demo-mla", "gemma3-layout"}) {
    const LoadedModel target = load_preset(name);
    const std::vector<int> prompt = target.tokenizer->encode_prompt("Anna went to the park and");
    const std::vector<int> expected = plain_greedy(target, prompt, 12);
    for (int block_size : {0, 4}) {
      if (block_size > 0 && target.model->config().mla()) continue;  // the pool holds K/V rows, not latents
      for (int k : {2, 5}) {
        INFO(name << " k=" << k << " block size " << block_size);
        SpeculativeDecoder decoder(target.model, draft.model, {k, 0.0f, 0, block_size});
        decoder.start(prompt, 12);
        decoder.run();
        CHECK(decoder.tokens() == expected);
      }
    }
  }
}
