// kvscope-cli bench: bytes per token count what is really streamed (2 bytes a BF16 weight), and the
// compute side is reported beside the bandwidth side. No timing is asserted, only the accounting (and,
// for --against, that each ratio is the two rates it names).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <algorithm>
#include <string>
#include <vector>

#include "cli_exec.h"
#include "hf_gpt2_folder.h"
#include "core/engine/kernels/isa.h"

namespace {
nlohmann::json bench(const std::string& dtype) {
  const test::ExecResult r = test::exec_cli({"bench", "--preset", "gpt2-small", "--weights-dtype", dtype, "--prompt-len",
                                             "2", "--new-tokens", "3", "--probe-mb", "8", "--json"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  return nlohmann::json::parse(r.out);
}
}  // namespace

TEST_CASE("bench: a BF16 model streams half the weight bytes, and the FLOP side is reported", "[bench][cli]") {
  const nlohmann::json f32 = bench("F32"), bf16 = bench("BF16");
  const double ratio = bf16["bytes_per_token"].get<double>() / f32["bytes_per_token"].get<double>();
  CHECK(ratio > 0.499);  // the K/V rows and norm vectors stay float32
  CHECK(ratio < 0.502);
  CHECK(bf16["peak_rss_bytes"].get<double>() < f32["peak_rss_bytes"].get<double>());
  CHECK(f32["isa"] == kvscope::active_kernels().isa);
  CHECK(f32["flop_peak_gflop_s"].get<double>() > 0);
  CHECK(f32["uncached"]["gflop_s"].get<double>() > 0);
  CHECK(f32["uncached"]["flop_peak_fraction"].get<double>() > 0);
}

TEST_CASE("bench: --weights-dtype is refused for a model that keeps its own dtype", "[bench][cli]") {
  const test::ExecResult r = test::exec_cli({"bench", "--preset", "demo", "--weights-dtype", "BF16"});
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("--weights-dtype applies to the gpt2-small preset"));
  CHECK(test::exec_cli({"bench", "--preset", "gpt2-small", "--weights-dtype", "F8"}).status == 2);
}

TEST_CASE("bench --against: two folders timed round by round in one process", "[bench][cli]") {
  test::TempDir f32("bench_against_f32"), bf16("bench_against_bf16"), empty("bench_against_empty");
  const int vocab = 40, context = 16, d = 32, heads = 4, layers = 2;
  const hf::Gpt2 m = hf::random_gpt2(vocab, context, d, heads, layers, 5, false);
  test::write_gpt2_folder(f32.path, m, {"F32", false, false});
  test::write_gpt2_folder(bf16.path, m, {"BF16", false, false});
  const test::ExecResult r =
      test::exec_cli({"bench", "--model", f32.path, "--against", bf16.path, "--mode", "cached", "--rounds", "3",
                      "--prompt-len", "2", "--new-tokens", "4", "--probe-mb", "8", "--json"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  const nlohmann::json against = nlohmann::json::parse(r.out)["against"];
  REQUIRE(against["speedup"].size() == 3);
  for (int round = 0; round < 3; ++round) {
    const double base = against["model_tokens_per_s"][round], other = against["against_tokens_per_s"][round];
    CHECK(base > 0);
    CHECK(against["speedup"][round].get<double>() == Approx(other / base));
  }
  std::vector<double> sorted = against["speedup"].get<std::vector<double>>();
  std::sort(sorted.begin(), sorted.end());
  CHECK(against["speedup_median"].get<double>() == Approx(sorted[1]));
  CHECK(nlohmann::json::parse(r.out)["peak_rss_counts"] == "load and decode of both models");
  // The peak RSS holds both models, so what it is compared with is both models' weights and full caches,
  // here from the shapes alone. Matrices: token and position tables, then per layer the fused QKV,
  // the output projection and the MLP's two; vectors: per layer two norms (scale and shift) and four
  // biases, then the final norm. F32 holds every value in 4 bytes, BF16 its matrices in 2. A full cache
  // is a K and a V row of width d per layer and position of the context, in floats.
  const double matrix_values = double(vocab * d + context * d + layers * (d * 3 * d + d * d + d * 4 * d + 4 * d * d));
  const double vector_values = double(layers * (2 * 2 * d + 3 * d + d + 4 * d + d) + 2 * d);
  const double full_cache = double(context * layers * 2 * d * 4);
  const double f32_bytes = (matrix_values + vector_values) * 4, bf16_bytes = matrix_values * 2 + vector_values * 4;
  CHECK(nlohmann::json::parse(r.out)["weights_plus_cache_bytes"].get<double>() ==
        f32_bytes + full_cache + bf16_bytes + full_cache);

  const test::ExecResult both_modes = test::exec_cli({"bench", "--model", f32.path, "--against", bf16.path});
  CHECK(both_modes.status == 2);
  CHECK_THAT(both_modes.err, Catch::Contains("--against times cached decode only"));
  const test::ExecResult not_a_model =
      test::exec_cli({"bench", "--model", f32.path, "--against", empty.path, "--mode", "cached", "--probe-mb", "8",
                      "--prompt-len", "2", "--new-tokens", "3"});
  CHECK(not_a_model.status == 1);
  CHECK_THAT(not_a_model.err, Catch::Contains(empty.path));
}

TEST_CASE("bench --contexts: one object per length, its bytes the closed form of the shapes", "[bench][cli]") {
  const test::ExecResult r = test::exec_cli({"bench", "--preset", "demo-llama", "--mode", "cached", "--contexts", "8,32,60",
                                             "--new-tokens", "4", "--probe-mb", "8", "--json"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  // demo-llama: 2 layers x 2 KV heads x 16 dims x K and V x 4 B = 512 B a position (independent of the engine's count).
  const double per_position = 2.0 * 2 * 16 * 2 * 4;
  const nlohmann::json& rows = doc["contexts"];
  REQUIRE(rows.size() == 3);
  const int lengths[3] = {8, 32, 60};
  for (std::size_t i = 0; i < 3; ++i) {
    const nlohmann::json& row = rows[i];
    INFO(row.dump());
    CHECK(row["context"] == lengths[i]);
    for (const char* key : {"prefill_seconds", "prefill_gflops", "cached_tokens_per_s", "bytes_per_token", "roofline_fraction",
                            "cache_bytes", "peak_rss_bytes"})
      CHECK(row[key].get<double>() > 0);
    CHECK(row["cache_bytes"].get<double>() == per_position * (lengths[i] + 3));  // prompt + 3 decoded positions
    // The roofline: bytes a token x tokens a second over the higher of the run's first bandwidth probe
    // and the one right after this length's decode.
    CHECK(row["bandwidth_after_decode_gb_s"].get<double>() > 0);
    CHECK(row["bandwidth_gb_s"].get<double>() ==
          std::max(doc["bandwidth_gb_s"].get<double>(), row["bandwidth_after_decode_gb_s"].get<double>()));
    CHECK(row["roofline_fraction"].get<double>() ==
          Approx(row["bytes_per_token"].get<double>() * row["cached_tokens_per_s"].get<double>() /
                 (row["bandwidth_gb_s"].get<double>() * 1e9)));
    CHECK(row["weights_plus_cache_bytes"].get<double>() == doc["weight_bytes"].get<double>() + row["cache_bytes"].get<double>());
    // Short lengths: uncached steps timed, and the speedup is the ratio of the two rates.
    CHECK(row["uncached_from"] == "two timed steps");
    CHECK(row["uncached_tokens_per_s"].get<double>() > 0);
    CHECK(row["cache_speedup"].get<double>() ==
          Approx(row["cached_tokens_per_s"].get<double>() / row["uncached_tokens_per_s"].get<double>()));
    // Bytes a decode step reads: the same weights at every length, plus the cache rows at the mean position.
    CHECK(row["bytes_per_token"].get<double>() - rows[0]["bytes_per_token"].get<double>() ==
          Approx(per_position * (lengths[i] - lengths[0])));
    // The prefill's multiply-adds grow with the length (projections linearly, scores quadratically).
    if (i > 0) CHECK(row["prefill_multiply_adds"].get<double>() > rows[i - 1]["prefill_multiply_adds"].get<double>());
  }
}

TEST_CASE("bench --contexts: bad sweeps are refused in one line", "[bench][cli]") {
  const test::ExecResult both = test::exec_cli({"bench", "--preset", "demo-llama", "--contexts", "8"});
  CHECK(both.status == 2);
  CHECK_THAT(both.err, Catch::Contains("--contexts times cached decode only"));
  const test::ExecResult zero = test::exec_cli({"bench", "--preset", "demo-llama", "--mode", "cached", "--contexts", "8,0"});
  CHECK(zero.status == 2);
  const test::ExecResult too_long = test::exec_cli({"bench", "--preset", "demo-llama", "--mode", "cached", "--contexts", "64",
                                                    "--new-tokens", "4", "--probe-mb", "8"});
  CHECK(too_long.status == 1);
  // After the probes' progress lines, the error is one line naming the option.
  const std::string last = too_long.err.substr(too_long.err.rfind('\n', too_long.err.size() - 2) + 1);
  CHECK_THAT(last, Catch::Contains("--contexts: the context length is 64 tokens"));
}

TEST_CASE("bench --contexts with --kv-policy and --kv-dtype: each cache timed at each length, bytes from the shapes",
          "[bench][cli]") {
  const test::ExecResult r =
      test::exec_cli({"bench", "--preset", "demo-llama", "--mode", "cached", "--contexts", "30,50", "--new-tokens", "4",
                      "--probe-mb", "8", "--kv-policy", "full", "--kv-policy", "window:16", "--kv-dtype", "f32,f16", "--json"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  const nlohmann::json rows = nlohmann::json::parse(r.out)["contexts"];
  // demo-llama: 2 layers x 2 KV heads x 16 dims x K and V = 128 values a position.
  const double values_per_position = 2.0 * 2 * 16 * 2;
  REQUIRE(rows.size() == 6);  // per length: full f32, full f16, window:16 (float32 rows)
  for (std::size_t i = 0; i < rows.size(); i += 3) {
    const nlohmann::json &f32 = rows[i], &f16 = rows[i + 1], &window = rows[i + 2];
    INFO(f32.dump() << "\n" << f16.dump() << "\n" << window.dump());
    const int length = f32["context"].get<int>();
    CHECK(length == (i == 0 ? 30 : 50));
    CHECK((f16["context"] == length && window["context"] == length));
    CHECK((f32["kv_policy"] == "full" && f32["kv_dtype"] == "f32"));
    CHECK((f16["kv_policy"] == "full" && f16["kv_dtype"] == "f16"));
    CHECK((window["kv_policy"] == "window:16" && window["kv_dtype"] == "f32"));
    // Cache bytes at the end: 4 or 2 bytes a value over prompt + 3 positions; the window's 16 positions.
    CHECK(f32["cache_bytes"].get<double>() == values_per_position * 4 * (length + 3));
    CHECK(f16["cache_bytes"].get<double>() == values_per_position * 2 * (length + 3));
    CHECK(window["cache_bytes"].get<double>() == values_per_position * 4 * 16);
    // Bytes a step reads: the weights (the same in all three) plus the cache rows read, at the mean of
    // steps at length + 1 .. length + 3 positions for the full cache; the window's 16 held rows and the step's own.
    const double mean_positions = length + 1.5;
    const double weights = f32["bytes_per_token"].get<double>() - values_per_position * 4 * mean_positions;
    CHECK(f16["bytes_per_token"].get<double>() == Approx(weights + values_per_position * 2 * mean_positions));
    CHECK(window["bytes_per_token"].get<double>() == Approx(weights + values_per_position * 4 * 17));
    for (const nlohmann::json* row : {&f32, &f16, &window}) CHECK((*row)["cached_tokens_per_s"].get<double>() > 0);
  }
}

TEST_CASE("bench --kv-policy / --kv-dtype: bad caches are refused in one line", "[bench][cli]") {
  const std::vector<std::string> sweep = {"bench", "--preset", "demo-llama", "--mode", "cached", "--contexts", "8",
                                          "--new-tokens", "2", "--probe-mb", "8"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = sweep;
    args.insert(args.end(), extra.begin(), extra.end());
    return test::exec_cli(args);
  };
  const struct {
    std::vector<std::string> extra;
    const char* message;
  } cases[] = {
      {{"--kv-dtype", "f8"}, "--kv-dtype must be f32, f16 or bf16, got 'f8'"},
      {{"--kv-policy", "tova:6"}, "--kv-policy tova:6: the bench records no attention"},
      {{"--kv-policy", "window:0"}, "--kv-policy: "},
      {{"--kv-policy", "window:16", "--kv-dtype", "f16"}, "--kv-dtype: the row dtypes are the full cache's"},
  };
  for (const auto& c : cases) {
    const test::ExecResult r = with(c.extra);
    INFO(c.extra.back() << ": " << r.err);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::Contains(c.message));
  }
  const test::ExecResult no_sweep = test::exec_cli({"bench", "--preset", "demo-llama", "--kv-dtype", "f16"});
  CHECK(no_sweep.status == 2);
  CHECK_THAT(no_sweep.err, Catch::Contains("add --contexts"));
  const test::ExecResult mla = test::exec_cli({"bench", "--preset", "demo-mla", "--mode", "cached", "--contexts", "8",
                                               "--new-tokens", "2", "--probe-mb", "8", "--kv-dtype", "f16"});
  CHECK(mla.status == 2);
  CHECK_THAT(mla.err, Catch::Contains("MLA caches latent rows"));
}
