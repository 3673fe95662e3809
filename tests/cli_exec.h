#pragma once
// Runs kvscope-cli (path in KVSCOPE_CLI) with an argument vector, no shell in between, so a test
// can pass text with quotes, tabs, newlines or invalid UTF-8 exactly. Captures the exit status,
// stdout, stderr and the child's peak resident memory.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace test {

struct ExecResult {
  int status = -1;  // exit status, or -1 when the child did not exit normally (a crash)
  std::string out, err;
  long peak_rss_kib = 0;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs kvscope-cli behind `launcher` (e.g. {"qemu-x86_64", "-cpu", "Nehalem"}), or directly when it
// is empty.
inline ExecResult exec_cli_under(const std::vector<std::string>& launcher, const std::vector<std::string>& args) {
  static int counter = 0;
  const std::string base = "/tmp/kvscope_exec_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  const std::string out_path = base + ".out", err_path = base + ".err";
  std::vector<std::string> argv_strings = launcher;
  argv_strings.push_back(KVSCOPE_CLI);
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ExecResult r;
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) == 0) {
    int raw = 0;
    struct rusage usage {};
    if (::wait4(pid, &raw, 0, &usage) == pid) {
      r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
      r.peak_rss_kib = usage.ru_maxrss;
    }
  }
  posix_spawn_file_actions_destroy(&actions);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  std::remove(out_path.c_str());
  std::remove(err_path.c_str());
  return r;
}

inline ExecResult exec_cli(const std::vector<std::string>& args) { return exec_cli_under({}, args); }

}  // namespace test
