#pragma once
// SafetensorsFile: reads a .safetensors file tensor by tensor.
// Layout: u64 little-endian header length N, N bytes of JSON
//   {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {string: string}},
// then the data; offsets count from the end of the header.
// The constructor reads and checks only the header; read() then pulls one tensor's bytes with
// pread() in small chunks and converts them straight into the caller's float buffer, so loading a
// model never holds the file and the converted weights at the same time.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kvscope {

struct TensorEntry {
  std::string name;
  std::string dtype;  // "F32", "F16", "BF16" (readable) or another safetensors dtype (skippable)
  std::vector<std::int64_t> shape;
  std::int64_t element_count = 0;
  std::uint64_t begin = 0, end = 0;  // byte range inside the data section
};

class SafetensorsFile {
 public:
  // Throws DataError naming the file and the problem: truncated file, header length past the end
  // of the file or absurd, header not a JSON object, entry fields missing or of the wrong type,
  // unknown dtype, negative or overflowing shape, offsets out of range, reversed, overlapping or
  // not matching shape x dtype size.
  explicit SafetensorsFile(const std::string& path);
  // The same checks over bytes already in memory (the built-in model compiled into the binary);
  // `name` stands in for the path in messages. The bytes must outlive this object.
  SafetensorsFile(const std::string& name, const unsigned char* bytes, std::size_t size);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::vector<TensorEntry>& tensors() const { return tensors_; }  // in data order
  const TensorEntry* find(const std::string& name) const;                // null when absent
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // Converts every value to float: out[0 .. element_count). DataError for a dtype other than
  // F32, F16 or BF16, or when the file shrank since it was opened.
  void read(const TensorEntry& tensor, float* out) const;
  // For a 2-D tensor [rows, cols], writes its transpose [cols, rows]: out[c * rows + r].
  void read_transposed(const TensorEntry& tensor, float* out) const;
  // An F16 or BF16 tensor's values as stored, unconverted (DataError for another dtype); plain or
  // transposed as above. How weights keep their 16-bit dtype in memory.
  void read_bits(const TensorEntry& tensor, std::uint16_t* out) const;
  void read_bits_transposed(const TensorEntry& tensor, std::uint16_t* out) const;

 private:
  template <typename Value, typename Sink>
  void read_chunks(const TensorEntry& tensor, std::int64_t granule, Sink&& sink) const;
  template <typename Value>
  void read_transposed_as(const TensorEntry& tensor, Value* out) const;
  void open_header(std::uint64_t file_size);
  bool read_bytes(std::uint64_t offset, void* buffer, std::size_t n) const;
  void parse_header(const std::string& header);
  void check_offsets();
  [[noreturn]] void fail(const std::string& problem) const;

  std::string path_;
  int fd_ = -1;
  const unsigned char* bytes_ = nullptr;  // in-memory source instead of fd_
  std::uint64_t bytes_size_ = 0;
  std::uint64_t data_start_ = 0;  // 8 + N
  std::uint64_t data_size_ = 0;   // file size - data_start_
  std::vector<TensorEntry> tensors_;
  std::map<std::string, std::size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// Bytes per element of a safetensors dtype name; 0 for a name safetensors does not define.
int dtype_size(const std::string& dtype);

}  // namespace kvscope
