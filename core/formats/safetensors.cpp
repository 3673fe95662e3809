#include "core/formats/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/engine/kernels/error.h"
#include "core/engine/kernels/half_float.h"
#include "core/engine/kernels/tensor.h"

namespace kvscope {

namespace {
// safetensors' own reader refuses headers above 100 MB; GPT-2 xl's is about 30 KB.
constexpr std::uint64_t kMaxHeaderBytes = 100000000;
// Bounds element counts so that count x 8 bytes cannot overflow 64 bits.
constexpr std::int64_t kMaxElements = std::int64_t(1) << 60;
constexpr std::size_t kChunkBytes = 1 << 20;
constexpr bool kLittleEndianHost = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

std::string text(std::uint64_t n) { return std::to_string(n); }

// Reads exactly n bytes at offset; false when the file ends first.
bool read_at(int fd, std::uint64_t offset, void* buffer, std::size_t n) {
  char* p = static_cast<char*>(buffer);
  while (n > 0) {
    const ssize_t got = ::pread(fd, p, n, off_t(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    p += got;
    n -= std::size_t(got);
    offset += std::uint64_t(got);
  }
  return true;
}

float decode_value(const unsigned char* b, int size) {
  if (size == 4) {
    const std::uint32_t u = std::uint32_t(b[0]) | std::uint32_t(b[1]) << 8 | std::uint32_t(b[2]) << 16 |
                            std::uint32_t(b[3]) << 24;
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
  }
  return half_to_float(std::uint16_t(b[0] | b[1] << 8));
}
}  // namespace

int dtype_size(const std::string& d) {
  if (d == "F64" || d == "I64" || d == "U64") return 8;
  if (d == "F32" || d == "I32" || d == "U32") return 4;
  if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
  if (d == "BOOL" || d == "U8" || d == "I8" || d == "F8_E4M3" || d == "F8_E5M2") return 1;
  return 0;
}

void SafetensorsFile::fail(const std::string& problem) const { throw DataError(path_ + ": " + problem); }

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail(std::string("cannot open: ") + std::strerror(errno));
  try {
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) fail("not a regular file");
    open_header(std::uint64_t(st.st_size));
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

SafetensorsFile::SafetensorsFile(const std::string& name, const unsigned char* bytes, std::size_t size)
    : path_(name), bytes_(bytes), bytes_size_(size) {
  open_header(size);
}

bool SafetensorsFile::read_bytes(std::uint64_t offset, void* buffer, std::size_t n) const {
  if (!bytes_) return read_at(fd_, offset, buffer, n);
  if (offset > bytes_size_ || n > bytes_size_ - offset) return false;
  std::memcpy(buffer, bytes_ + offset, n);
  return true;
}

void SafetensorsFile::open_header(std::uint64_t file_size) {
  unsigned char length_bytes[8];
  if (file_size < 8 || !read_bytes(0, length_bytes, 8))
    fail("truncated: " + text(file_size) + " bytes, too short for the 8-byte header length");
  std::uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = header_size << 8 | length_bytes[i];
  if (header_size > kMaxHeaderBytes)
    fail("header length " + text(header_size) + " is absurd (limit " + text(kMaxHeaderBytes) + " bytes)");
  if (header_size > file_size - 8)
    fail("header length " + text(header_size) + " runs past the end of the file (" + text(file_size) +
         " bytes): truncated file?");
  std::string header(header_size, '\0');
  if (!read_bytes(8, header.data(), header.size())) fail("truncated while reading the header");
  data_start_ = 8 + header_size;
  data_size_ = file_size - data_start_;
  parse_header(header);
  check_offsets();
}

SafetensorsFile::~SafetensorsFile() {
  if (fd_ >= 0) ::close(fd_);
}

const TensorEntry* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

namespace {
// One header entry; the thrown message names the tensor, the caller adds the file.
TensorEntry parse_entry(const std::string& name, const nlohmann::json& j) {
  auto bad = [&](const std::string& problem) { throw DataError("tensor '" + name + "': " + problem); };
  if (!j.is_object()) bad("entry is not a JSON object");
  TensorEntry t;
  t.name = name;
  auto dtype = j.find("dtype");
  if (dtype == j.end() || !dtype->is_string()) bad("missing \"dtype\" string");
  t.dtype = dtype->get<std::string>();
  const int size = dtype_size(t.dtype);
  if (size == 0) bad("unknown dtype '" + t.dtype + "'");
  auto shape = j.find("shape");
  if (shape == j.end() || !shape->is_array()) bad("missing \"shape\" array");
  t.element_count = 1;
  for (const nlohmann::json& dim : *shape) {
    if (!dim.is_number_integer()) bad("shape " + shape->dump() + " has a non-integer dimension");
    if (!dim.is_number_unsigned()) bad("shape " + shape->dump() + " has a negative dimension");
    const std::uint64_t n = dim.get<std::uint64_t>();
    if (n > std::uint64_t(kMaxElements) || (n != 0 && t.element_count > kMaxElements / std::int64_t(n)))
      bad("shape " + shape->dump() + " overflows (more than 2^60 elements)");
    t.shape.push_back(std::int64_t(n));
    t.element_count *= std::int64_t(n);
  }
  auto offsets = j.find("data_offsets");
  if (offsets == j.end() || !offsets->is_array() || offsets->size() != 2)
    bad("missing \"data_offsets\" [begin, end]");
  for (const nlohmann::json& o : *offsets)
    if (!o.is_number_unsigned()) bad("data_offsets " + offsets->dump() + " are not non-negative integers");
  t.begin = (*offsets)[0].get<std::uint64_t>();
  t.end = (*offsets)[1].get<std::uint64_t>();
  if (t.begin > t.end) bad("data_offsets " + offsets->dump() + " are reversed");
  const std::uint64_t want = std::uint64_t(t.element_count) * std::uint64_t(size);
  if (t.end - t.begin != want)
    bad("data_offsets " + offsets->dump() + " hold " + text(t.end - t.begin) + " bytes, but shape " +
        shape_text(t.shape) + " of " + t.dtype + " needs " + text(want));
  return t;
}
}  // namespace

void SafetensorsFile::parse_header(const std::string& header) {
  const nlohmann::json j = nlohmann::json::parse(header, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) fail("header is not valid JSON");
  if (!j.is_object()) fail("header is not a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) fail("__metadata__ is not a JSON object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) fail("__metadata__ value of '" + m.key() + "' is not a string");
        metadata_[m.key()] = m->get<std::string>();
      }
      continue;
    }
    try {
      tensors_.push_back(parse_entry(it.key(), it.value()));
    } catch (const DataError& e) {
      fail(e.what());
    }
  }
}

void SafetensorsFile::check_offsets() {
  std::sort(tensors_.begin(), tensors_.end(), [](const TensorEntry& a, const TensorEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  const TensorEntry* previous = nullptr;
  for (std::size_t i = 0; i < tensors_.size(); ++i) {
    const TensorEntry& t = tensors_[i];
    if (t.end > data_size_)
      fail("tensor '" + t.name + "': data_offsets [" + text(t.begin) + ", " + text(t.end) +
           "] run past the end of the data (" + text(data_size_) + " bytes): truncated file?");
    // Empty tensors occupy no bytes and cannot overlap anything.
    if (previous && t.begin < previous->end && t.begin != t.end)
      fail("tensors '" + previous->name + "' and '" + t.name + "' overlap (data_offsets [" +
           text(previous->begin) + ", " + text(previous->end) + "] and [" + text(t.begin) + ", " +
           text(t.end) + "])");
    if (t.begin != t.end) previous = &t;
    index_[t.name] = i;
  }
}

// Calls sink(first_index, values, n) for consecutive pieces of the tensor; n is a multiple of
// `granule` (whole rows, for the transpose) whenever a chunk can hold that many values. Value float
// converts F32, F16 or BF16; Value std::uint16_t passes F16 or BF16 bits through.
template <typename Value, typename Sink>
void SafetensorsFile::read_chunks(const TensorEntry& t, std::int64_t granule, Sink&& sink) const {
  const int size = dtype_size(t.dtype);
  constexpr bool raw = sizeof(Value) == 2;
  if (raw && t.dtype != "F16" && t.dtype != "BF16")
    fail("tensor '" + t.name + "' has dtype " + t.dtype + ", not the 16-bit F16 or BF16");
  if (t.dtype != "F32" && t.dtype != "F16" && t.dtype != "BF16")
    fail("tensor '" + t.name + "' has dtype " + t.dtype + "; kvscope reads F32, F16 or BF16");
  const bool bf16 = t.dtype == "BF16";
  std::vector<unsigned char> bytes(kChunkBytes);
  std::int64_t capacity = std::int64_t(kChunkBytes) / size;
  if (granule > 0 && granule <= capacity) capacity -= capacity % granule;
  std::vector<Value> values(static_cast<std::size_t>(capacity));
  std::int64_t done = 0;
  while (done < t.element_count) {
    const std::int64_t n = std::min(capacity, t.element_count - done);
    if (!read_bytes(data_start_ + t.begin + std::uint64_t(done) * size, bytes.data(), std::size_t(n) * size))
      fail("tensor '" + t.name + "': file ended while reading its data (truncated since it was opened?)");
    if (std::size_t(size) == sizeof(Value) && kLittleEndianHost) {
      std::memcpy(values.data(), bytes.data(), std::size_t(n) * size);  // already the wanted form, LE
    } else {
      for (std::int64_t k = 0; k < n; ++k) {
        const unsigned char* b = bytes.data() + k * size;
        const std::uint16_t bits = std::uint16_t(b[0] | b[1] << 8);
        if constexpr (raw)
          values[k] = bits;
        else
          values[k] = bf16 ? bfloat16_to_float(bits) : decode_value(b, size);
      }
    }
    sink(done, values.data(), n);
    done += n;
  }
}

void SafetensorsFile::read(const TensorEntry& t, float* out) const {
  read_chunks<float>(t, 0, [out](std::int64_t first, const float* values, std::int64_t n) {
    std::copy(values, values + n, out + first);
  });
}

void SafetensorsFile::read_bits(const TensorEntry& t, std::uint16_t* out) const {
  read_chunks<std::uint16_t>(t, 0, [out](std::int64_t first, const std::uint16_t* values, std::int64_t n) {
    std::copy(values, values + n, out + first);
  });
}

template <typename Value>
void SafetensorsFile::read_transposed_as(const TensorEntry& t, Value* out) const {
  if (t.shape.size() != 2) fail("tensor '" + t.name + "' is not 2-D, cannot transpose it");
  const std::int64_t rows = t.shape[0], cols = t.shape[1];
  read_chunks<Value>(t, cols, [out, rows, cols](std::int64_t first, const Value* values, std::int64_t n) {
    if (first % cols == 0 && n % cols == 0) {
      // Whole rows r0..r0+m-1: walk the output row by row so writes stay contiguous.
      const std::int64_t r0 = first / cols, m = n / cols;
      for (std::int64_t c = 0; c < cols; ++c)
        for (std::int64_t r = 0; r < m; ++r) out[c * rows + r0 + r] = values[r * cols + c];
      return;
    }
    for (std::int64_t k = 0; k < n; ++k) {  // rows wider than a chunk: element by element
      const std::int64_t r = (first + k) / cols, c = (first + k) % cols;
      out[c * rows + r] = values[k];
    }
  });
}

void SafetensorsFile::read_transposed(const TensorEntry& t, float* out) const { read_transposed_as(t, out); }

void SafetensorsFile::read_bits_transposed(const TensorEntry& t, std::uint16_t* out) const {
  read_transposed_as(t, out);
}

}  // namespace kvscope
