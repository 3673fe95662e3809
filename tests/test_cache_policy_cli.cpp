// kvscope-cli generate --kv-policy as a user runs it: bad specs refused (exit 2, one line naming the
// option), and the done-when on demo-llama with teacher forcing: kept positions against their
// closed form and kl_from_full against KL recomputed from an independent full-attention forward
// (tests/llama_reference.h, double precision) and the policy run's own logits.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>

#include "cli_exec.h"
#include "core/engine/model/tensor_table.h"
#include "core/formats/model_source.h"
#include "llama_reference.h"

using nlohmann::json;

namespace {

// The built-in model's tensors under their Hugging Face names, for the independent forward.
llama_ref::Model reference_of(const kvscope::LoadedModel& m) {
  const kvscope::ModelConfig& c = m.model->config();
  llama_ref::Model r;
  r.s.vocab = c.vocab_size, r.s.hidden = c.d_model, r.s.ff = c.d_ff(), r.s.layers = c.n_layer, r.s.heads = c.n_head;
  r.s.kv_heads = c.kv_heads(), r.s.head_dim = c.d_head(), r.s.context = c.context_length, r.s.theta = c.rope_theta;
  kvscope::visit_tensors(c, m.model->weights(), [&r](const kvscope::TensorSpec& spec, const auto& t) {
    if (t.size() == 0) return;
    r.tensors[spec.name] = {{t.rows(), t.cols()}, std::vector<float>(t.data(), t.data() + t.size())};
  });
  return r;
}

// KL(p || q) of two logit rows, in double, with its own softmax.
double kl_of(const std::vector<double>& p_logits, const std::vector<double>& q_logits) {
  auto softmax = [](const std::vector<double>& z) {
    double top = -1e300, sum = 0;
    for (double v : z) top = std::max(top, v);
    std::vector<double> p;
    for (double v : z) sum += p.emplace_back(std::exp(v - top));
    for (double& v : p) v /= sum;
    return p;
  };
  const std::vector<double> p = softmax(p_logits), q = softmax(q_logits);
  double kl = 0;
  for (std::size_t i = 0; i < p.size(); ++i) kl += p[i] * std::log(p[i] / q[i]);
  return kl;
}

const char* kPrompt =
    "The model reads one new token at each step . The cache keeps the keys and values of old tokens . Anna went to "
    "the park and Ben went to the river . Anna likes the cat , and the cat likes Anna . Ben gave Anna an apple";
const char* kForce = " , and Anna gave Ben a banana . The red box";

}  // namespace

TEST_CASE("generate --kv-policy: a malformed spec is one line naming --kv-policy, exit 2", "[policy][cli]") {
  struct Bad {
    const char* spec;
    const char* message;
  };
  const Bad bad[] = {{"window:0", "at least 1"},           {"recent:4", "unknown item"},
                     {"bits:3", "bits must be 4, 8 or 16"}, {"sinks:4,window:4", "fewer than the window"},
                     {"heavy:2", "need a window"},          {"bits:8,bits:4", "given twice"},
                     {"window:8,", "empty item"},           {"", "empty"},
                     {"tova:0", "at least 1"},              {"tova:6,window:4", "one eviction rule"}};
  for (const Bad& b : bad) {
    INFO(b.spec);
    const test::ExecResult r = test::exec_cli({"generate", "--preset", "demo-llama", "--prompt", "Time", "--kv-policy", b.spec});
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::StartsWith("kvscope-cli: --kv-policy: ") && Catch::Contains(b.message));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.out.empty());
  }
  const test::ExecResult r = test::exec_cli({"generate", "--prompt", "Time", "--kv-policy", "bits:8", "--mode", "uncached"});
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("--kv-policy applies to the cached mode"));
}

TEST_CASE("done-when: sinks:2,window:6, bits:8, bits:4 and full on demo-llama, teacher-forced to 64 positions", "[policy][cli][llama]") {
  const kvscope::LoadedModel m = kvscope::load_preset("demo-llama");
  const llama_ref::Model reference = reference_of(m);
  const std::int64_t float_bytes_64 = 2LL * 2 * 2 * 16 * 64 * 4;
  for (const std::string spec : {"sinks:2,window:6", "bits:8", "bits:4", "full"}) {
    const test::ExecResult r = test::exec_cli({"generate", "--preset", "demo-llama", "--prompt", kPrompt, "--force", kForce,
                                               "--max-new-tokens", "12", "--kv-policy", spec, "--mode", "cached",
                                               "--json", "--logits"});
    REQUIRE(r.status == 0);
    const json doc = json::parse(r.out);
    const std::vector<int> tokens = doc["tokens"].get<std::vector<int>>();
    REQUIRE(doc["steps"].size() == 12);
    double max_kl = 0;
    for (const json& step : doc["steps"]) {
      const int end = step["positions"][1].get<int>();
      INFO(spec << " at " << end << " positions");
      const json& p = step["cached"]["policy"];
      CHECK(p["spec"] == spec);
      // Kept positions per layer: sinks + the newest window, or everything.
      std::vector<int> kept;
      for (int q = 0; q < end; ++q)
        if (spec != "sinks:2,window:6" || q < 2 || q >= end - 6) kept.push_back(q);
      REQUIRE(p["kept_positions"].size() == 2);
      for (const json& layer : p["kept_positions"]) CHECK(layer.get<std::vector<int>>() == kept);
      // KL(full || policy): the full side recomputed here in double, the policy side the run's own logits.
      const std::vector<int> context(tokens.begin(), tokens.begin() + end);
      const llama_ref::Vec full = llama_ref::last_logits(reference, context, 0);
      const std::vector<double> policy = step["logits"].get<std::vector<double>>();
      const double kl = kl_of(full, policy), reported = p["kl_from_full"].get<double>();
      CHECK_THAT(reported, Catch::Matchers::WithinAbs(kl, 1e-6 + 1e-3 * kl));
      if (spec == "full") CHECK(reported == 0.0);
      max_kl = std::max(max_kl, reported);
      if (end == 64) {
        CHECK(p["full_cache_bytes"] == float_bytes_64);
        if (spec == "bits:8") CHECK(p["cache_bytes"].get<double>() <= 0.30 * double(float_bytes_64));
        if (spec == "bits:4") CHECK(p["cache_bytes"].get<double>() <= 0.16 * double(float_bytes_64));
      }
      const bool quantized = spec.rfind("bits", 0) == 0;
      CHECK((p["max_abs_k_error"].get<double>() > 0) == (quantized && !step["phase"].get<std::string>().compare("decode")));
    }
    if (spec != "full") CHECK(max_kl > 1e-6);  // every other policy diverges somewhere
  }
}

TEST_CASE("done-when: generate --kv-policy tova:6 holds at most 6 rows per layer and reports its divergence", "[policy][cli][tova][llama]") {
  const kvscope::LoadedModel m = kvscope::load_preset("demo-llama");
  const llama_ref::Model reference = reference_of(m);
  const test::ExecResult r = test::exec_cli({"generate", "--preset", "demo-llama", "--prompt", kPrompt, "--force", kForce,
                                             "--max-new-tokens", "8", "--kv-policy", "tova:6", "--mode", "cached",
                                             "--json", "--logits"});
  REQUIRE(r.status == 0);
  const json doc = json::parse(r.out);
  const std::vector<int> tokens = doc["tokens"].get<std::vector<int>>();
  REQUIRE(doc["steps"].size() == 8);
  for (const json& step : doc["steps"]) {
    const int end = step["positions"][1].get<int>();
    INFO("at " << end << " positions");
    const json& p = step["cached"]["policy"];
    CHECK(p["spec"] == "tova:6");
    CHECK(p["max_rows"] == 6);
    REQUIRE(p["kept_positions"].size() == 2);
    for (const json& layer : p["kept_positions"]) CHECK(layer.size() == 6);  // 53+ positions, budget 6
    for (const json& layer : p["kept_reasons"]) CHECK(layer["attended"].size() == 6);
    CHECK(step["cached"]["cache_bytes"] == 2 * 2 * 6 * 2 * 16 * 4);  // K and V, 2 layers, 6 rows, 2 KV heads x 16, fp32
    const std::vector<int> context(tokens.begin(), tokens.begin() + end);
    const double kl = kl_of(llama_ref::last_logits(reference, context, 0), step["logits"].get<std::vector<double>>());
    CHECK_THAT(p["kl_from_full"].get<double>(), Catch::Matchers::WithinAbs(kl, 1e-6 + 1e-3 * kl));
    if (step["phase"] == "decode") CHECK(kl > 1e-6);  // the prefill read every row; eviction follows it
  }
}
