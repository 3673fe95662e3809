#pragma once
// Runs kvscope-cli (path in KVSCOPE_CLI) and captures exit status, stdout and stderr.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace test {

struct CliResult {
  int status = -1;
  std::string out, err;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// args is passed to the shell as written: quote what needs quoting.
inline CliResult run_cli(const std::string& args) {
  static int counter = 0;
  const std::string base = "/tmp/kvscope_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  const std::string command = std::string("cd / && ") + KVSCOPE_CLI + " " + args + " >" + base + ".out 2>" + base + ".err";
  const int raw = std::system(command.c_str());
  CliResult r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = read_file(base + ".out");
  r.err = read_file(base + ".err");
  std::remove((base + ".out").c_str());
  std::remove((base + ".err").c_str());
  return r;
}

}  // namespace test
