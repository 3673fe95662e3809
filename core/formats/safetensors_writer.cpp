#include "core/formats/safetensors_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "core/engine/kernels/error.h"
#include "core/engine/kernels/half_float.h"

namespace kvscope {

namespace {
int stored_size(const std::string& dtype) {
  if (dtype == "F32") return 4;
  if (dtype == "F16" || dtype == "BF16") return 2;
  return 0;
}

std::int64_t element_count(const NamedTensor& t) {
  std::int64_t n = 1;
  for (std::int64_t d : t.shape) n *= d;
  return n;
}

void check_request(const std::vector<NamedTensor>& tensors) {
  std::set<std::string> names;
  for (const NamedTensor& t : tensors) {
    if (t.name.empty() || t.name == "__metadata__")
      throw UsageError("write_safetensors: invalid tensor name '" + t.name + "'");
    if (!names.insert(t.name).second) throw UsageError("write_safetensors: duplicate tensor '" + t.name + "'");
    if (stored_size(t.dtype) == 0)
      throw UsageError("write_safetensors: tensor '" + t.name + "' has dtype '" + t.dtype +
                       "' (F32, F16 or BF16 only)");
    for (std::int64_t d : t.shape)
      if (d < 0) throw UsageError("write_safetensors: tensor '" + t.name + "' has a negative dimension");
    if (!t.data && element_count(t) > 0) throw UsageError("write_safetensors: tensor '" + t.name + "' has no data");
  }
}

// u64 length + JSON header padded with spaces to a multiple of 8, so the data starts aligned.
std::string header_bytes(const std::vector<NamedTensor>& tensors, const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  for (const NamedTensor& t : tensors) {
    const std::uint64_t bytes = std::uint64_t(element_count(t)) * stored_size(t.dtype);
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = char((std::uint64_t(json.size()) >> (8 * i)) & 0xff);
  return out + json;
}

// A failed system call, carried to write_safetensors which removes the temporary file.
struct WriteFailure {
  int error;
};

[[noreturn]] void throw_failure() { throw WriteFailure{errno != 0 ? errno : EIO}; }

void write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    errno = 0;
    const ssize_t done = ::write(fd, p, n);
    if (done < 0 && errno == EINTR) continue;
    if (done <= 0) throw_failure();
    p += done;
    n -= std::size_t(done);
  }
}

// Little-endian bytes of one tensor, converted a chunk at a time.
void write_tensor(int fd, const NamedTensor& t) {
  const int size = stored_size(t.dtype);
  const std::int64_t n = element_count(t);
  std::vector<char> buffer;
  const std::int64_t chunk = 1 << 18;
  for (std::int64_t first = 0; first < n; first += chunk) {
    const std::int64_t count = std::min(chunk, n - first);
    buffer.resize(std::size_t(count * size));
    for (std::int64_t k = 0; k < count; ++k) {
      const float v = t.data[first + k];
      std::uint32_t u;
      if (size == 4)
        std::memcpy(&u, &v, sizeof u);
      else
        u = t.dtype == "F16" ? float_to_half(v) : float_to_bfloat16(v);
      for (int b = 0; b < size; ++b) buffer[std::size_t(k * size + b)] = char((u >> (8 * b)) & 0xff);
    }
    write_all(fd, buffer.data(), buffer.size());
  }
}
}  // namespace

void write_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  check_request(tensors);
  const std::string header = header_bytes(tensors, metadata);
  std::string temp = path + ".tmp-XXXXXX";
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) throw DataError("cannot write " + path + ": " + std::strerror(errno));
  try {
    write_all(fd, header.data(), header.size());
    for (const NamedTensor& t : tensors) write_tensor(fd, t);
    if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0) throw_failure();
  } catch (const WriteFailure& f) {
    ::close(fd);
    ::unlink(temp.c_str());
    throw DataError("cannot write " + path + ": " + std::strerror(f.error));
  }
  if (::close(fd) != 0) {
    const int e = errno;
    ::unlink(temp.c_str());
    throw DataError("cannot write " + path + ": " + std::strerror(e));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(temp.c_str());
    throw DataError("cannot write " + path + ": " + std::strerror(e));
  }
}

}  // namespace kvscope
