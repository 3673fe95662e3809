#pragma once
// Errors that cross the core boundary. Front ends map them to exit status 1 (bad data) or 2 (bad usage);
// core/ itself never prints or exits.
#include <stdexcept>
#include <string>

namespace kvscope {

// Malformed or inconsistent input data: a file, a token id, a prompt the model cannot take.
struct DataError : std::runtime_error {
  explicit DataError(const std::string& message) : std::runtime_error(message) {}
};

// A request that is wrong in itself: an out-of-range option, an unknown preset.
struct UsageError : std::runtime_error {
  explicit UsageError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace kvscope
