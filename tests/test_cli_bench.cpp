// kvscope-cli bench: bytes per token count what is really streamed (2 bytes a BF16 weight), and the
// compute side is reported beside the bandwidth side. No timing is asserted, only the accounting.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>

#include "cli_exec.h"
#include "core/engine/isa.h"

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
