// core/safetensors and core/safetensors_writer against bytes written out by hand: F16/BF16/F32
// bit patterns whose values are known, rounding ties, layout, atomic writes.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_exec.h"
#include "core/engine/kernels/error.h"
#include "core/formats/safetensors.h"
#include "core/formats/safetensors_writer.h"
#include "hf_gpt2_folder.h"

using kvscope::DataError;
using kvscope::NamedTensor;
using kvscope::SafetensorsFile;

namespace {
void put_u16(std::string& s, std::uint16_t v) { s += char(v & 0xff), s += char(v >> 8); }
void put_u32(std::string& s, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s += char((v >> (8 * i)) & 0xff);
}
std::string file_bytes(const std::string& header, const std::string& data) {
  std::string s;
  put_u32(s, std::uint32_t(header.size()));
  put_u32(s, 0);
  return s + header + data;
}
std::uint16_t u16_at(const std::string& s, std::size_t at) {
  return std::uint16_t(static_cast<unsigned char>(s[at]) | static_cast<unsigned char>(s[at + 1]) << 8);
}
}  // namespace

TEST_CASE("safetensors: F16, BF16 and F32 bit patterns read as their known values", "[safetensors]") {
  test::TempDir dir("st_read");
  const std::string header =
      R"({"__metadata__": {"format": "pt"},
          "a": {"dtype": "F16", "shape": [2, 3], "data_offsets": [0, 12]},
          "b": {"dtype": "BF16", "shape": [3], "data_offsets": [12, 18]},
          "c": {"dtype": "F32", "shape": [2], "data_offsets": [18, 26]},
          "mask": {"dtype": "BOOL", "shape": [2], "data_offsets": [26, 28]}})";
  std::string data;
  for (std::uint16_t h : {0x3C00, 0xC000, 0x3555, 0x7BFF, 0x0001, 0x8000}) put_u16(data, h);
  for (std::uint16_t b : {0x3F80, 0xC0A0, 0x7F80}) put_u16(data, b);
  put_u32(data, 0x3DCCCCCDu);  // 0.1f
  put_u32(data, 0xC2F6E979u);  // -123.456f
  data += std::string("\x01\x00", 2);
  test::write_text(dir / "t.safetensors", file_bytes(header, data));

  SafetensorsFile file(dir / "t.safetensors");
  REQUIRE(file.tensors().size() == 4);
  CHECK(file.metadata().at("format") == "pt");
  CHECK(file.find("nope") == nullptr);
  std::vector<float> a(6), at(6), b(3), c(2);
  file.read(*file.find("a"), a.data());
  CHECK(a == std::vector<float>{1.0f, -2.0f, 0.333251953125f, 65504.0f, 5.9604644775390625e-08f, -0.0f});
  CHECK(std::signbit(a[5]));
  file.read_transposed(*file.find("a"), at.data());  // [2, 3] -> [3, 2]
  CHECK(at == std::vector<float>{a[0], a[3], a[1], a[4], a[2], a[5]});
  file.read(*file.find("b"), b.data());
  CHECK(b == std::vector<float>{1.0f, -5.0f, std::numeric_limits<float>::infinity()});
  file.read(*file.find("c"), c.data());
  CHECK(c == std::vector<float>{0.1f, -123.456f});
  std::vector<float> unused(2);
  CHECK_THROWS_WITH(file.read(*file.find("mask"), unused.data()), Catch::Contains("has dtype BOOL"));
}

TEST_CASE("safetensors writer: known bytes, round to nearest even, 8-byte aligned header", "[safetensors]") {
  test::TempDir dir("st_write");
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // 1 + 2^-11 and 1 + 3 * 2^-11 sit halfway between two halves; 65520 rounds up past 65504.
  const std::vector<float> halves = {1.0f, -2.0f, 0.1f, 1.0f + 0x1p-11f, 1.0f + 0x3p-11f, 65520.0f, 1e-8f, 3e-8f, nan};
  const std::vector<std::uint16_t> half_bits = {0x3C00, 0xC000, 0x2E66, 0x3C00, 0x3C02, 0x7C00, 0x0000, 0x0001};
  // 1 + 2^-8 and 1 + 3 * 2^-8 are BF16 ties.
  const std::vector<float> bfloats = {1.0f, 0.1f, 1.0f + 0x1p-8f, 1.0f + 0x3p-8f, -0.0f};
  const std::vector<std::uint16_t> bfloat_bits = {0x3F80, 0x3DCD, 0x3F80, 0x3F82, 0x8000};
  const std::vector<float> floats = {0.1f, -123.456f};
  kvscope::write_safetensors(dir / "w.safetensors",
                             {{"h", {3, 3}, "F16", halves.data()}, {"b", {5}, "BF16", bfloats.data()},
                              {"f", {2}, "F32", floats.data()}},
                             {{"written_by", "test"}});
  const std::string bytes = test::slurp(dir / "w.safetensors");
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | static_cast<unsigned char>(bytes[i]);
  CHECK(n % 8 == 0);
  REQUIRE(bytes.size() == 8 + n + 18 + 10 + 8);
  const nlohmann::json header = nlohmann::json::parse(bytes.substr(8, n));
  CHECK(header["__metadata__"]["written_by"] == "test");
  CHECK(header["h"]["data_offsets"] == nlohmann::json({0, 18}));
  CHECK(header["b"]["data_offsets"] == nlohmann::json({18, 28}));
  CHECK(header["f"]["data_offsets"] == nlohmann::json({28, 36}));
  CHECK(header["h"]["shape"] == nlohmann::json({3, 3}));
  const std::size_t data = 8 + n;
  for (std::size_t i = 0; i < half_bits.size(); ++i) CHECK(u16_at(bytes, data + 2 * i) == half_bits[i]);
  const std::uint16_t nan_bits = u16_at(bytes, data + 16);
  CHECK(((nan_bits & 0x7C00) == 0x7C00 && (nan_bits & 0x3FF) != 0));
  for (std::size_t i = 0; i < bfloat_bits.size(); ++i) CHECK(u16_at(bytes, data + 18 + 2 * i) == bfloat_bits[i]);
  CHECK(bytes.substr(data + 28, 4) == std::string("\xCD\xCC\xCC\x3D", 4));
}

TEST_CASE("safetensors: what the writer stores, the reader gives back, in every dtype", "[safetensors]") {
  test::TempDir dir("st_round");
  std::mt19937 rng(7);
  const hf::Tensor exact = hf::random_tensor({4, 5}, 9, rng);  // representable in all three dtypes
  std::vector<float> any(20);
  for (float& v : any) v = float(rng()) / float(rng.max()) - 0.5f;
  for (const char* dtype : {"F32", "F16", "BF16"}) {
    INFO(dtype);
    kvscope::write_safetensors(dir / "r.safetensors",
                               {{"exact", {4, 5}, dtype, exact.values.data()}, {"any", {20}, "F32", any.data()},
                                {"empty", {0, 3}, dtype, nullptr}});
    SafetensorsFile file(dir / "r.safetensors");
    std::vector<float> back(20), back_any(20);
    file.read(*file.find("exact"), back.data());
    file.read(*file.find("any"), back_any.data());
    CHECK(back == exact.values);
    CHECK(back_any == any);
    CHECK(file.find("empty")->element_count == 0);
  }
}

TEST_CASE("safetensors writer: a failed write leaves no file and no temporary behind", "[safetensors]") {
  test::TempDir dir("st_atomic");
  const std::vector<float> v = {1, 2, 3};
  kvscope::write_safetensors(dir / "keep.safetensors", {{"v", {3}, "F32", v.data()}});
  const std::string before = test::slurp(dir / "keep.safetensors");
  CHECK_THROWS_AS(kvscope::write_safetensors(dir / "keep.safetensors", {{"v", {3}, "F64", v.data()}}),
                  kvscope::UsageError);
  CHECK_THROWS_AS(kvscope::write_safetensors(dir / "keep.safetensors", {{"v", {3}, "F32", v.data()}, {"v", {3}, "F32", v.data()}}),
                  kvscope::UsageError);
  CHECK_THROWS_WITH(kvscope::write_safetensors(dir / "no/such/dir/x.safetensors", {{"v", {3}, "F32", v.data()}}),
                    Catch::Contains("no/such/dir/x.safetensors"));
  CHECK(test::slurp(dir / "keep.safetensors") == before);
  std::vector<std::string> leftovers;
  for (const auto& e : std::filesystem::directory_iterator(dir.path))
    if (e.path().filename() != "keep.safetensors") leftovers.push_back(e.path().filename().string());
  CHECK(leftovers.empty());
}

TEST_CASE("safetensors: damaged headers are refused before any data is read", "[safetensors]") {
  test::TempDir dir("st_bad");
  struct Bad {
    std::string header, data, message;
  };
  const std::string ok_entry = R"("x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]})";
  const std::vector<Bad> cases = {
      {R"({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "__metadata__": [1]})", std::string(8, 0), "__metadata__ is not a JSON object"},
      {R"({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "__metadata__": {"a": 1}})", std::string(8, 0), "not a string"},
      {R"({"x": 3})", "", "entry is not a JSON object"},
      {R"({"x": {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 8]}})", std::string(8, 0), "non-integer dimension"},
      {R"({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0]}})", std::string(8, 0), "data_offsets"},
      {R"({"x": {"dtype": "F32", "shape": [2], "data_offsets": [-8, 8]}})", std::string(8, 0), "not non-negative integers"},
      {R"({"x": {"dtype": "F32", "shape": [18446744073709551615, 2], "data_offsets": [0, 8]}})", std::string(8, 0), "overflows"},
      {"{" + ok_entry + R"(, "y": {"dtype": "F16", "shape": [3], "data_offsets": [6, 12]}})", std::string(12, 0), "overlap"},
      {"{" + ok_entry + "}", std::string(7, 0), "run past the end of the data"},
  };
  for (const Bad& b : cases) {
    INFO(b.header);
    test::write_text(dir / "bad.safetensors", file_bytes(b.header, b.data));
    CHECK_THROWS_WITH(SafetensorsFile(dir / "bad.safetensors"),
                      Catch::Contains("bad.safetensors") && Catch::Contains(b.message));
  }
  CHECK_THROWS_WITH(SafetensorsFile(dir / "missing.safetensors"), Catch::Contains("missing.safetensors: cannot open"));
}
