// The same binary on a CPU without AVX: kvscope-cli run under qemu-user as a Nehalem (SSE4.2, no
// AVX), where any AVX instruction outside the dispatched kernels stops the program with SIGILL.
// It must pick the SSE2 kernels and give the tokens the native run gives with its own kernels.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_exec.h"
#include "hf_gpt2_folder.h"

#if defined(__x86_64__) && !defined(KVSCOPE_SANITIZED)

namespace {
#ifdef KVSCOPE_QEMU_X86_64
const std::vector<std::string> kNehalem = {KVSCOPE_QEMU_X86_64, "-cpu", "Nehalem"};
#endif

std::vector<int> tokens_of(const test::ExecResult& r) {
  return nlohmann::json::parse(r.out)["tokens"].get<std::vector<int>>();
}

// A byte-per-token vocabulary for a test folder, so `generate --model` has a tokenizer to load.
void write_byte_vocab(const test::TempDir& dir, int vocab) {
  nlohmann::json v = nlohmann::json::object();
  for (int i = 0; i < vocab; ++i) v[std::string(1, char('!' + i))] = i;
  test::write_text(dir / "vocab.json", v.dump());
  test::write_text(dir / "merges.txt", "#version: 0.2\n");
}
}  // namespace

TEST_CASE("isa: a CPU without AVX (qemu-user -cpu Nehalem) runs the same binary to the same tokens", "[kernels][cli][qemu]") {
#ifndef KVSCOPE_QEMU_X86_64
  FAIL("qemu-x86_64 was not found when configuring; scripts/install-deps.sh installs Debian's qemu-user");
#else
  const test::ExecResult info = test::exec_cli_under(kNehalem, {"info", "--preset", "demo", "--json"});
  REQUIRE(info.status == 0);
  CHECK(nlohmann::json::parse(info.out)["isa"] == "sse2");

  // Forcing a wider set on this CPU is refused by the CPUID check, not by a crash.
  ::setenv("KVSCOPE_ISA", "avx2", 1);
  const test::ExecResult forced = test::exec_cli_under(kNehalem, {"info", "--preset", "demo"});
  ::unsetenv("KVSCOPE_ISA");
  CHECK(forced.status == 2);
  CHECK_THAT(forced.err, Catch::Contains("this CPU does not support it"));

  // Each family's decode (GPT-2, RoPE + GQA, latent attention), cached and uncached in one run.
  const std::vector<std::vector<std::string>> runs = {
      {"generate", "--preset", "demo", "--prompt", "Time", "--max-new-tokens", "6", "--json"},
      {"generate", "--preset", "demo-llama", "--ids", "3,1,4,1,5", "--max-new-tokens", "8", "--json"},
      {"generate", "--preset", "demo-mla", "--prompt", "Time flies", "--max-new-tokens", "6", "--json"},
  };
  for (const auto& args : runs) {
    INFO(args[2]);
    const test::ExecResult native = test::exec_cli(args);
    const test::ExecResult old_cpu = test::exec_cli_under(kNehalem, args);
    REQUIRE(native.status == 0);
    REQUIRE(old_cpu.status == 0);
    CHECK(tokens_of(old_cpu) == tokens_of(native));
  }

  // 16-bit weights widened inside the SSE2 kernels.
  test::TempDir dir("nehalem_bf16");
  const hf::Gpt2 m = hf::random_gpt2(61, 16, 48, 4, 2, 21, true);
  test::write_gpt2_folder(dir.path, m, {"BF16", false, false});
  write_byte_vocab(dir, m.vocab);
  const std::vector<std::string> bf16 = {"generate", "--model", dir.path, "--ids", "3,1,4,1,5", "--max-new-tokens", "8", "--json"};
  const test::ExecResult native = test::exec_cli(bf16);
  const test::ExecResult old_cpu = test::exec_cli_under(kNehalem, bf16);
  INFO(native.err << old_cpu.err);
  REQUIRE(native.status == 0);
  REQUIRE(old_cpu.status == 0);
  CHECK(tokens_of(old_cpu) == tokens_of(native));

  // The trainer's products: the same losses to the printed digits.
  test::TempDir train("nehalem_train");
  test::write_text(train / "corpus.txt", "time flies fast\ntime goes by\nthe cat sat\n");
  const std::vector<std::string> train_args = {"train", "--corpus", train / "corpus.txt", "--steps", "20",
                                               "--log-every", "10", "--overwrite", "--out"};
  std::vector<std::string> native_args = train_args, old_args = train_args;
  native_args.push_back(train / "native");
  old_args.push_back(train / "nehalem");
  const test::ExecResult native_train = test::exec_cli(native_args);
  const test::ExecResult old_train = test::exec_cli_under(kNehalem, old_args);
  REQUIRE(native_train.status == 0);
  REQUIRE(old_train.status == 0);
  // "step    10/20  loss 1.7566  lr ..." : compare the loss columns of both logs.
  auto losses = [](const std::string& log) {
    std::vector<std::string> found;
    for (std::size_t at = log.find("loss "); at != std::string::npos; at = log.find("loss ", at + 1))
      found.push_back(log.substr(at, 11));
    return found;
  };
  CHECK(losses(old_train.out + old_train.err).size() >= 3);
  CHECK(losses(old_train.out + old_train.err) == losses(native_train.out + native_train.err));
#endif
}

#endif
