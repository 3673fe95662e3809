#pragma once
// The loaders read paths, so each fuzz input is written to a scratch file first.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace fuzz {

inline std::string write_scratch(const char* name, const std::uint8_t* data, std::size_t size) {
  const std::string path = std::string(access("/dev/shm", W_OK) == 0 ? "/dev/shm/kvscope_fuzz_" : "/tmp/kvscope_fuzz_") + std::to_string(::getpid()) + "_" + name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
  return path;
}

}  // namespace fuzz
