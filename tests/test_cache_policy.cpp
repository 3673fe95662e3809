// Cache policies (core/engine/cache/kv_policy.h, policy_cache.h): specs, kept sets against closed forms,
// heavy hitters against attention summed here from the recorded weights, quantization within half a
// step, KL recomputed from two runs' logits, and `full` equal to the plain cached path bit for bit.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/engine/cache/kv_policy.h"
#include "core/engine/kernels/error.h"
#include "core/engine/cache/kv_quant.h"
#include "core/engine/cache/policy_cache.h"
#include "core/engine/session/session.h"
#include "core/formats/model_source.h"
#include "test_helpers.h"

using namespace kvscope;
using Catch::Matchers::WithinAbs;

namespace {

const LoadedModel& demo_llama() {
  static const LoadedModel m = load_preset("demo-llama");
  return m;
}

// A teacher-forced run on demo-llama: 30 prompt ids, then `steps` more.
std::vector<StepTrace> run(const std::optional<KvPolicy>& policy, int steps, bool attention = false) {
  SessionOptions options;
  options.kv_policy = policy;
  options.run_uncached = false;
  options.record_attention = attention;
  options.full_steps_kept = 0;  // keep every step's tensors: the tests read old steps' attention
  DecodeSession session(demo_llama().model, demo_llama().tokenizer, options);
  const int vocab = demo_llama().model->config().vocab_size;
  session.start(test::random_ids(30, vocab, 7), test::random_ids(steps, vocab, 8));
  for (int s = 0; s < steps; ++s) session.step();
  return session.history();
}

// The rule's answer for one layer and KV head, as {position: reason}.
std::map<int, std::string> keep(const KvPolicy& policy, const std::vector<int>& held, int end,
                                const std::vector<double>& sums = {}, const std::vector<double>& newest = {}) {
  const KeptRows k = policy.rule->keep(EvictionInputs{held, end, 0, sums, newest});
  REQUIRE(k.positions.size() == k.reasons.size());
  REQUIRE(std::is_sorted(k.positions.begin(), k.positions.end()));
  std::map<int, std::string> out;
  for (std::size_t i = 0; i < k.positions.size(); ++i) out[k.positions[i]] = k.reasons[i];
  return out;
}

std::vector<int> with_reason(const PolicyTrace& p, int layer, int kv_head, const std::string& word) {
  std::vector<int> out;
  for (int q : p.kept_at(layer, kv_head))
    if (p.reason_of(layer, kv_head, q) == word) out.push_back(q);
  return out;
}

// Softmax in double, written here.
std::vector<double> probs(const RowVector& logits) {
  double top = -1e300, sum = 0;
  for (Eigen::Index i = 0; i < logits.size(); ++i) top = std::max(top, double(logits[i]));
  std::vector<double> p;
  for (Eigen::Index i = 0; i < logits.size(); ++i) sum += p.emplace_back(std::exp(double(logits[i]) - top));
  for (double& x : p) x /= sum;
  return p;
}

}  // namespace

TEST_CASE("policy specs: canonical form, and every malformed spec refused with its reason", "[policy]") {
  CHECK(parse_kv_policy("full").to_string() == "full");
  CHECK(parse_kv_policy(" window:6 , sinks:2 ").to_string() == "sinks:2,window:6");
  CHECK(parse_kv_policy("bits:8").to_string() == "bits:8");
  CHECK(parse_kv_policy("heavy:3,window:4,bits:4").to_string() == "window:4,heavy:3,bits:4");
  const KvPolicy p = parse_kv_policy("sinks:2,window:6,heavy:1,bits:16");
  CHECK(p.rule->spec() == "sinks:2,window:6,heavy:1");
  CHECK(p.rule->max_rows() == 2 + 6 + 1);
  CHECK(p.rule->uses_attention_sums());
  CHECK(p.quantizer->bits() == 16);
  CHECK(parse_kv_policy("bits:8").rule->max_rows() == 0);  // keeps all
  CHECK_FALSE(parse_kv_policy("bits:8").evicts());
  struct Bad {
    const char* spec;
    const char* message;
  };
  const Bad bad[] = {
      {"", "empty"},
      {"window:8,", "empty item"},
      {",window:8", "empty item"},
      {"window:8,,bits:8", "empty item"},
      {"window", "needs a value"},
      {"recent:8", "unknown item 'recent:8'"},
      {"window:0", "at least 1"},
      {"window:-3", "whole number"},
      {"window:8x", "whole number"},
      {"window:", "whole number"},
      {"bits:2", "bits must be 4, 8 or 16"},
      {"bits:32", "bits must be 4, 8 or 16"},
      {"sinks:4,window:4", "fewer than the window"},
      {"sinks:9,window:4", "fewer than the window"},
      {"sinks:2", "sinks need a window"},
      {"heavy:2", "heavy hitters need a window"},
      {"heavy:2,bits:8", "heavy hitters need a window"},
      {"window:4,window:8", "given twice"},
      {"full,bits:8", "'full' stands alone"},
      {"heavy:0,window:4", "at least 1"},
  };
  for (const Bad& b : bad) {
    INFO("spec '" << b.spec << "'");
    try {
      parse_kv_policy(b.spec);
      FAIL("accepted");
    } catch (const UsageError& e) {
      CHECK_THAT(e.what(), Catch::Contains(b.message));
      CHECK(std::string(e.what()).find('\n') == std::string::npos);
    }
  }
}

TEST_CASE("eviction rules: sinks and the newest window by their closed form, each with its reason", "[policy]") {
  for (int end : {1, 5, 8, 9, 20}) {
    const std::vector<int> held = test::range(0, end);
    std::map<int, std::string> expected, window3, all;
    for (int p = 0; p < end; ++p) {
      if (p < 2) expected[p] = "sink";
      else if (p >= end - 6) expected[p] = "recent";
      if (p >= end - 3) window3[p] = "recent";
      all[p] = "all";
    }
    CHECK(keep(parse_kv_policy("sinks:2,window:6"), held, end) == expected);
    CHECK(keep(parse_kv_policy("window:3"), held, end) == window3);
    CHECK(keep(parse_kv_policy("bits:4"), held, end) == all);
  }
  // Heavy hitters: the largest sums outside sinks and window; a tie goes to the older position.
  const std::vector<double> sums = {9, 1, 5, 7, 5, 0, 3, 8, 8};
  CHECK(keep(parse_kv_policy("window:2,heavy:3"), test::range(0, 9), 9, sums) ==
        std::map<int, std::string>{{0, "heavy"}, {2, "heavy"}, {3, "heavy"}, {7, "recent"}, {8, "recent"}});
}

TEST_CASE("sinks + window on demo-llama: kept and evicted positions every step, in every layer and KV head", "[policy][llama]") {
  const int S = 2, W = 6;
  const std::vector<StepTrace> h = run(parse_kv_policy("sinks:2,window:6"), 12, true);
  std::vector<int> before;  // kept after the previous step
  for (const StepTrace& t : h) {
    INFO("step " << t.step);
    const PolicyTrace& p = t.cached.policy;
    REQUIRE(p.active);
    std::vector<int> kept;
    for (int q = 0; q < t.position_end; ++q)
      if (q < S || q >= t.position_end - W) kept.push_back(q);
    std::vector<int> evicted;  // held before, or new, and not kept
    std::vector<int> candidates = before;
    for (int q = t.position_begin; q < t.position_end; ++q) candidates.push_back(q);
    for (int q : candidates)
      if (!std::binary_search(kept.begin(), kept.end(), q)) evicted.push_back(q);
    for (int l = 0; l < 2; ++l)
      for (int g = 0; g < 2; ++g) {
        CHECK(p.kept_at(l, g) == kept);
        CHECK(p.evicted_at(l, g) == evicted);
      }
    CHECK(with_reason(p, 0, 0, "sink") == test::range(0, std::min(S, t.position_end)));
    CHECK(with_reason(p, 1, 1, "recent") == test::range(std::max(S, t.position_end - W), t.position_end));
    CHECK(p.max_rows == S + W);
    // The query read exactly what the cache held before the step, plus itself: evicted rows get weight 0.
    for (const LayerRecord& l : t.cached.forward.layers) {
      CHECK(l.reused_rows == before);
      CHECK(l.row_keys_read.back() == (t.prefill ? t.position_end : int(before.size()) + 1));  // what it held, and itself
      CHECK(l.keys_read == (t.prefill ? std::int64_t(t.position_end) * (t.position_end + 1) / 2 : std::int64_t(before.size()) + 1));
      CHECK(l.held_rows == kept);
      if (t.prefill) continue;
      for (const Matrix& a : l.attention)
        for (int k = 0; k < t.position_end; ++k) {
          const bool read = k == t.position_begin || std::binary_search(before.begin(), before.end(), k);
          CHECK((a(0, k) > 0.0f) == read);
        }
    }
    before = kept;
  }
}

TEST_CASE("heavy hitters: the positions with the largest attention summed from the recorded weights", "[policy][llama]") {
  const KvPolicy policy = parse_kv_policy("sinks:1,window:4,heavy:3");
  const std::vector<StepTrace> h = run(policy, 10, true);
  const ModelConfig& c = demo_llama().model->config();
  // sums[layer][kv head][position], accumulated here from each step's attention rows.
  std::vector<std::vector<std::vector<double>>> sums(2, std::vector<std::vector<double>>(2));
  bool heads_differ = false;
  for (const StepTrace& t : h) {
    INFO("step " << t.step);
    for (int l = 0; l < c.n_layer; ++l) {
      const LayerRecord& r = t.cached.forward.layers[std::size_t(l)];
      for (int g = 0; g < c.kv_heads(); ++g) {
        std::vector<double>& s = sums[l][g];
        s.resize(std::size_t(t.position_end), 0.0);
        for (int hq = 0; hq < c.n_head; ++hq) {
          if (c.kv_head_of(hq) != g) continue;
          const Matrix& a = r.attention[std::size_t(hq)];
          for (Eigen::Index i = 0; i < a.rows(); ++i)
            for (int k = 0; k < t.position_end; ++k) s[std::size_t(k)] += double(a(i, k));
        }
        // Expected: sink 0, the newest 4, then the 3 largest sums among the rest still held.
        const std::vector<int>& kept_before = t.step == 0 ? std::vector<int>{} : h[std::size_t(t.step - 1)].cached.policy.kept_at(l, g);
        std::vector<int> candidates = kept_before;
        for (int q = t.position_begin; q < t.position_end; ++q) candidates.push_back(q);
        std::vector<int> expected, rest;
        for (int q : candidates) (q < 1 || q >= t.position_end - 4 ? expected : rest).push_back(q);
        std::stable_sort(rest.begin(), rest.end(), [&s](int a, int b) { return s[std::size_t(a)] > s[std::size_t(b)]; });
        if (rest.size() > 3) rest.resize(3);
        std::vector<int> heavy = rest;
        std::sort(heavy.begin(), heavy.end());
        expected.insert(expected.end(), rest.begin(), rest.end());
        std::sort(expected.begin(), expected.end());
        CHECK(t.cached.policy.kept_at(l, g) == expected);
        CHECK(with_reason(t.cached.policy, l, g, "heavy") == heavy);
      }
      heads_differ = heads_differ || t.cached.policy.kept_at(l, 0) != t.cached.policy.kept_at(l, 1);
    }
  }
  CHECK(heads_differ);  // the reason kept positions are per KV head
}

TEST_CASE("quantize then dequantize: within half a step of the scale, at 4 and 8 bits", "[policy]") {
  SplitMix64 rng(5);
  for (int bits : {4, 8}) {
    for (int trial = 0; trial < 200; ++trial) {
      const float span = float(std::pow(10.0, rng.uniform() * 6 - 3)), base = float(rng.uniform() * 20 - 10);
      std::vector<float> x(32);
      for (float& v : x) v = base + span * float(rng.uniform());
      const float lo = *std::min_element(x.begin(), x.end()), hi = *std::max_element(x.begin(), x.end());
      const QuantScale q = choose_scale(lo, hi, bits);
      const float step = q.scale_f();
      // The step is the range over the levels, up to fp16 rounding of zero and scale.
      CHECK(step >= (hi - lo) / float((1 << bits) - 1));
      CHECK(step <= (hi - lo) / float((1 << bits) - 1) * 1.01f + std::abs(lo) * 2e-3f / float(1 << bits) + 1e-7f);
      for (float v : x) {
        const float back = dequantize(quantize(v, q, bits), q);
        CHECK(std::abs(back - v) <= step / 2 + 4e-7f * std::max(1.0f, std::abs(v)));
      }
    }
  }
  // Packed 4-bit codes: two a byte, each read back as written.
  PackedCodes codes(4);
  codes.resize(9);
  CHECK(codes.bytes() == 5);
  for (int i = 0; i < 9; ++i) codes.set(std::size_t(i), (i * 7) % 16);
  for (int i = 0; i < 9; ++i) CHECK(codes.get(std::size_t(i)) == (i * 7) % 16);
}

TEST_CASE("a quantized cache reads rows back within half a step: values per row, keys per channel and group", "[policy]") {
  const ModelConfig& c = demo_llama().model->config();
  const int d = c.kv_dim(), n = 40;  // group 0 (0..31) sealed, 32..39 in the fp16 residual
  for (int bits : {4, 8}) {
    const KvPolicy policy = parse_kv_policy("bits:" + std::to_string(bits));
    PolicyKvCache cache(c, policy);
    SplitMix64 rng{std::uint64_t(bits)};
    Matrix k(n, d), v(n, d);
    for (Eigen::Index i = 0; i < k.size(); ++i) {
      k.data()[i] = float(rng.uniform() * 6 - 3) * float(1 + i % 5);
      v.data()[i] = float(rng.uniform() * 2 - 1);
    }
    for (int p = 0; p < n; ++p)
      for (int l = 0; l < c.n_layer; ++l) cache.write(l, p, k.row(p).data(), v.row(p).data());
    cache.advance(n);
    const KvLayerView view = cache.read_layer(1);
    const float levels = float((1 << bits) - 1);
    for (int p = 0; p < n; ++p) {
      const float v_step = (v.row(p).maxCoeff() - v.row(p).minCoeff()) / levels;
      for (int ch = 0; ch < d; ++ch) {
        INFO("bits " << bits << " position " << p << " channel " << ch);
        CHECK(std::abs(view.value_row(p)[ch] - v(p, ch)) <= v_step / 2 * 1.01f + 1e-4f);
        const float key = view.key_row(p)[ch];
        if (p < 32) {
          const float k_step = (k.col(ch).head(32).maxCoeff() - k.col(ch).head(32).minCoeff()) / levels;
          CHECK(std::abs(key - k(p, ch)) <= k_step / 2 * 1.01f + std::abs(k(p, ch)) * 1e-3f);  // fp16 before sealing
        } else {
          CHECK(std::abs(key - k(p, ch)) <= std::abs(k(p, ch)) * 4.9e-4f);  // fp16 residual: half an ulp
        }
      }
    }
    // 2 layers x (K: 40 rows x 32 codes + group 0's 32 (zero, scale) + 8 fp16 rows; V: 40 x (32 codes + 4 B)).
    const std::int64_t code_bytes = std::int64_t(d) * bits / 8;
    CHECK(cache.bytes_held() == 2 * (32 * code_bytes + d * 4 + 8 * d * 2 + 40 * (code_bytes + 4)));
    CHECK(cache.read_key_error(1) > 0.0f);
  }
}

TEST_CASE("8 bits hold at most 30% of the float32 bytes at 64 positions on demo-llama, scales included", "[policy][llama]") {
  const ModelConfig& c = demo_llama().model->config();
  REQUIRE(c.n_layer == 2);
  REQUIRE(c.kv_heads() == 2);
  REQUIRE(c.d_head() == 16);
  const std::int64_t float_bytes = 2LL * 2 * 2 * 16 * 64 * 4;  // K and V, layers, KV heads, d_head, positions, 4 B
  for (int bits : {4, 8, 16}) {
    const KvPolicy policy = parse_kv_policy("bits:" + std::to_string(bits));
    const std::vector<StepTrace> h = run(policy, 35);  // 30 + 34 = 64 positions after the last step
    const PolicyTrace& p = h.back().cached.policy;
    REQUIRE(h.back().position_end == 64);
    CHECK(p.full_cache_bytes == float_bytes);
    // Per layer: K codes + (zero, scale) fp16 per channel and group of 32; V codes + (zero, scale) per row.
    const std::int64_t quantized = 2 * (64 * 32 * bits / 8 + 2 * 32 * 4 + 64 * 32 * bits / 8 + 64 * 4);
    CHECK(p.cache_bytes == (bits == 16 ? float_bytes / 2 : quantized));
    if (bits == 8) CHECK(double(p.cache_bytes) <= 0.30 * double(float_bytes));
    CHECK(h.back().cached.cache_bytes == p.cache_bytes);  // the memory meter shows what the policy holds
  }
}

TEST_CASE("kl_from_full equals KL recomputed from the logits of a plain run and of the policy run", "[policy][llama]") {
  const std::vector<StepTrace> full = run(std::nullopt, 14);
  for (const char* spec : {"sinks:2,window:6", "window:8,heavy:4", "bits:8", "bits:4", "bits:16"}) {
    const std::vector<StepTrace> policy = run(parse_kv_policy(spec), 14);
    bool some_divergence = false;
    for (std::size_t s = 0; s < full.size(); ++s) {
      INFO(spec << " step " << s);
      const std::vector<double> pf = probs(full[s].cached.logits), pp = probs(policy[s].cached.logits);
      double kl = 0, max_diff = 0;
      for (std::size_t i = 0; i < pf.size(); ++i) {
        kl += pf[i] * std::log(pf[i] / pp[i]);
        max_diff = std::max(max_diff, std::abs(pf[i] - pp[i]));
      }
      const PolicyTrace& p = policy[s].cached.policy;
      CHECK_THAT(p.kl_from_full, WithinAbs(kl, 1e-9 + 1e-9 * kl));
      CHECK_THAT(double(p.max_abs_prob_diff), WithinAbs(max_diff, 1e-6));
      Eigen::Index top_full = 0, top_policy = 0;
      full[s].cached.logits.maxCoeff(&top_full);
      policy[s].cached.logits.maxCoeff(&top_policy);
      CHECK(p.top1_agrees == (top_full == top_policy));
      some_divergence = some_divergence || kl > 1e-9;
    }
    CHECK(some_divergence);
  }
}

TEST_CASE("policy full is the plain cached path bit for bit, and diverges by exactly 0", "[policy][llama]") {
  const std::vector<StepTrace> plain = run(std::nullopt, 10, true);
  const std::vector<StepTrace> full = run(KvPolicy{}, 10, true);
  for (std::size_t s = 0; s < plain.size(); ++s) {
    INFO("step " << s);
    const ModeTrace &a = plain[s].cached, &b = full[s].cached;
    CHECK(a.logits == b.logits);
    CHECK(a.cache_bytes == b.cache_bytes);
    CHECK(b.policy.kl_from_full == 0.0);
    CHECK(b.policy.max_abs_prob_diff == 0.0f);
    CHECK(b.policy.top1_agrees);
    CHECK(b.policy.kept_at(0, 0) == test::range(0, plain[s].position_end));
    for (std::size_t l = 0; l < a.forward.layers.size(); ++l) {
      CHECK(a.forward.layers[l].keys == b.forward.layers[l].keys);
      CHECK(a.forward.layers[l].held_rows == b.forward.layers[l].held_rows);
      CHECK(a.forward.layers[l].reused_rows == b.forward.layers[l].reused_rows);
      for (std::size_t h = 0; h < a.forward.layers[l].attention.size(); ++h)
        CHECK(a.forward.layers[l].attention[h] == b.forward.layers[l].attention[h]);
    }
  }
}

TEST_CASE("back() under a policy rebuilds the exact policy cache: stepping again gives the same trace", "[policy][llama]") {
  SessionOptions options;
  options.kv_policy = parse_kv_policy("sinks:1,window:5,heavy:2,bits:8");
  DecodeSession session(demo_llama().model, demo_llama().tokenizer, options);
  const int vocab = demo_llama().model->config().vocab_size;
  session.start(test::random_ids(36, vocab, 3), test::random_ids(8, vocab, 4));
  std::vector<StepTrace> first;
  for (int s = 0; s < 7; ++s) first.push_back(session.step());
  for (int i = 0; i < 3; ++i) REQUIRE(session.back());
  for (int s = 4; s < 7; ++s) {
    INFO("step " << s);
    const StepTrace& t = session.step();
    CHECK(t.cached.logits == first[std::size_t(s)].cached.logits);
    CHECK(t.cached.policy.kept == first[std::size_t(s)].cached.policy.kept);
    CHECK(t.cached.policy.kl_from_full == first[std::size_t(s)].cached.policy.kl_from_full);
    CHECK(t.cached.policy.cache_bytes == first[std::size_t(s)].cached.policy.cache_bytes);
  }
  // A dropped step recomputed: the same numbers.
  const StepTrace again = session.recompute_step(2);
  CHECK(again.cached.logits == first[2].cached.logits);
  CHECK(again.cached.policy.kept == first[2].cached.policy.kept);
}

TEST_CASE("tova: the spec, and the rule's closed form on given scores", "[policy][tova]") {
  CHECK(parse_kv_policy("tova:6").to_string() == "tova:6");
  CHECK(parse_kv_policy(" bits:8 , tova:6 ").to_string() == "tova:6,bits:8");
  CHECK(parse_kv_policy("tova:6").rule->max_rows() == 6);
  CHECK(parse_kv_policy("tova:6").rule->uses_newest_attention());
  for (const char* bad : {"tova:0", "tova", "tova:6,window:4", "window:4,tova:6", "tova:6,heavy:2", "tova:6,tova:5"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_kv_policy(bad), UsageError);
  }
  CHECK_THROWS_WITH(parse_kv_policy("tova:6,window:4"), Catch::Contains("one eviction rule"));
  // Budget 3 of 7 held: the three largest scores; of the three tied at 0.2 the oldest (1) goes.
  const std::vector<double> newest = {0.05, 0.2, 0.3, 0.0, 0.2, 0.2, 0.1};
  CHECK(keep(parse_kv_policy("tova:3"), test::range(0, 7), 7, {}, newest) ==
        std::map<int, std::string>{{2, "attended"}, {4, "attended"}, {5, "attended"}});
  const KeptRows under = parse_kv_policy("tova:8").rule->keep(EvictionInputs{test::range(0, 7), 7, 0, {}, newest});
  CHECK(under.positions == test::range(0, 7));  // under budget: nothing goes
}

TEST_CASE("tova:6 on demo-llama: at most 6 rows per layer, chosen by the newest query's attention averaged here", "[policy][tova][llama]") {
  const int budget = 6;
  const std::vector<StepTrace> h = run(parse_kv_policy("tova:6"), 10, true);
  const ModelConfig& c = demo_llama().model->config();
  std::vector<std::vector<int>> before(std::size_t(c.n_layer));  // per layer, kept after the previous step
  bool evicted_any = false;
  for (const StepTrace& t : h) {
    INFO("step " << t.step);
    const PolicyTrace& p = t.cached.policy;
    for (int l = 0; l < c.n_layer; ++l) {
      const LayerRecord& r = t.cached.forward.layers[std::size_t(l)];
      // The newest query row's weights, averaged over every query head of the layer, computed here.
      std::vector<double> score(std::size_t(t.position_end), 0.0);
      for (const Matrix& a : r.attention)
        for (int k = 0; k < t.position_end; ++k) score[std::size_t(k)] += double(a(a.rows() - 1, k)) / double(c.n_head);
      std::vector<int> candidates = before[std::size_t(l)];
      for (int q = t.position_begin; q < t.position_end; ++q) candidates.push_back(q);
      std::vector<int> expected = candidates;
      if (int(expected.size()) > budget) {
        std::sort(expected.begin(), expected.end(), [&](int a, int b) {
          return score[std::size_t(a)] != score[std::size_t(b)] ? score[std::size_t(a)] > score[std::size_t(b)] : a > b;
        });
        expected.resize(std::size_t(budget));
        std::sort(expected.begin(), expected.end());
        evicted_any = true;
      }
      for (int g = 0; g < c.kv_heads(); ++g) {
        INFO("layer " << l << " KV head " << g);
        CHECK(p.kept_at(l, g) == expected);
        CHECK(int(p.kept_at(l, g).size()) <= budget);
        for (int q : p.kept_at(l, g)) CHECK(std::string(p.reason_of(l, g, q)) == "attended");
      }
      CHECK(r.held_rows == expected);
      // The query read only what the cache held before the step, and itself.
      if (!t.prefill) CHECK(r.reused_rows == before[std::size_t(l)]);
      before[std::size_t(l)] = expected;
    }
    CHECK(p.max_rows == budget);
    CHECK(p.kl_from_full >= 0.0);
  }
  CHECK(evicted_any);
  CHECK(h.back().cached.policy.kl_from_full > 1e-6);  // measured against full attention like every policy
}
