// Damaged GPT-2 and Gemma 3 folders: every one is a single line on stderr naming the file and the problem,
// exit status 1, and never a crash.
#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_exec.h"
#include "core/formats/safetensors_writer.h"
#include "gemma_reference.h"
#include "hf_gpt2_folder.h"
#include "toy_bpe.h"

using nlohmann::json;

namespace {
struct RawFile {
  std::string header, data;
};

RawFile split_file(const std::string& path) {
  const std::string bytes = test::slurp(path);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | static_cast<unsigned char>(bytes[i]);
  return {bytes.substr(8, n), bytes.substr(8 + n)};
}

std::string u64_bytes(std::uint64_t n) {
  std::string s;
  for (int i = 0; i < 8; ++i) s += char((n >> (8 * i)) & 0xff);
  return s;
}

void write_raw(const std::string& path, const std::string& header, const std::string& data) {
  test::write_text(path, u64_bytes(header.size()) + header + data);
}

// Rewrites model.safetensors with its header changed by edit; the data stays as it was.
std::function<void(const std::string&)> edit_header(std::function<void(json&)> edit) {
  return [edit](const std::string& dir) {
    const RawFile f = split_file(dir + "/model.safetensors");
    json header = json::parse(f.header);
    edit(header);
    write_raw(dir + "/model.safetensors", header.dump(), f.data);
  };
}

std::function<void(const std::string&)> edit_config(std::function<void(json&)> edit) {
  return [edit](const std::string& dir) {
    json config = json::parse(test::slurp(dir + "/config.json"));
    edit(config);
    test::write_text(dir + "/config.json", config.dump());
  };
}

std::function<void(const std::string&)> write_file(const std::string& name, const std::string& text) {
  return [name, text](const std::string& dir) { test::write_text(dir + "/" + name, text); };
}

struct Damage {
  const char* what;
  std::function<void(const std::string&)> apply;
  const char* file;  // named on stderr
  const char* message;
};

std::vector<Damage> damages() {
  const std::string st = "model.safetensors";
  return {
      {"file shorter than 8 bytes", write_file(st, "\x10\0\0"), "model.safetensors", "truncated"},
      {"header length past the end", [](const std::string& d) {
         const RawFile f = split_file(d + "/model.safetensors");
         test::write_text(d + "/model.safetensors", u64_bytes(f.header.size() + f.data.size() + 1) + f.header + f.data);
       }, "model.safetensors", "runs past the end of the file"},
      {"absurd header length", write_file(st, u64_bytes(~0ull) + "{}"), "model.safetensors", "is absurd"},
      {"header not JSON", [](const std::string& d) { write_raw(d + "/model.safetensors", "{\"wte.weight\": {", ""); },
       "model.safetensors", "header is not valid JSON"},
      {"header a JSON array", [](const std::string& d) { write_raw(d + "/model.safetensors", "[1, 2]", ""); },
       "model.safetensors", "header is not a JSON object"},
      {"entry without dtype", edit_header([](json& h) { h["wte.weight"].erase("dtype"); }), "model.safetensors",
       "tensor 'wte.weight': missing \"dtype\""},
      {"dtype of the wrong type", edit_header([](json& h) { h["wpe.weight"]["dtype"] = 32; }), "model.safetensors",
       "tensor 'wpe.weight': missing \"dtype\" string"},
      {"shape not an array", edit_header([](json& h) { h["ln_f.bias"]["shape"] = "16"; }), "model.safetensors",
       "missing \"shape\" array"},
      {"unknown dtype", edit_header([](json& h) { h["h.0.ln_1.weight"]["dtype"] = "F33"; }), "model.safetensors",
       "unknown dtype 'F33'"},
      {"needed tensor in an unreadable dtype", edit_header([](json& h) { h["wte.weight"]["dtype"] = "I32"; }),
       "model.safetensors", "'wte.weight' has dtype I32"},
      {"negative dimension", edit_header([](json& h) { h["ln_f.weight"]["shape"] = {-16}; }), "model.safetensors",
       "negative dimension"},
      {"overflowing shape", edit_header([](json& h) { h["wte.weight"]["shape"] = {1ull << 40, 1ull << 40}; }),
       "model.safetensors", "overflows"},
      {"offsets not integers", edit_header([](json& h) { h["ln_f.bias"]["data_offsets"] = {"0", 64}; }),
       "model.safetensors", "not non-negative integers"},
      {"reversed offsets", edit_header([](json& h) {
         json& o = h["ln_f.bias"]["data_offsets"];
         o = {o[1], o[0]};
       }), "model.safetensors", "are reversed"},
      {"offsets not matching shape x dtype", edit_header([](json& h) {
         h["ln_f.bias"]["data_offsets"][1] = h["ln_f.bias"]["data_offsets"][1].get<std::uint64_t>() - 4;
       }), "model.safetensors", "needs 64"},
      {"offsets out of range", edit_header([](json& h) {
         json& o = h["ln_f.bias"]["data_offsets"];
         o = {o[0].get<std::uint64_t>() + (1ull << 40), o[1].get<std::uint64_t>() + (1ull << 40)};
       }), "model.safetensors", "run past the end of the data"},
      {"truncated data", [](const std::string& d) {
         const RawFile f = split_file(d + "/model.safetensors");
         write_raw(d + "/model.safetensors", f.header, f.data.substr(0, f.data.size() - 100));
       }, "model.safetensors", "truncated file?"},
      {"overlapping tensors", edit_header([](json& h) {
         h["h.0.ln_1.bias"]["data_offsets"] = h["h.0.ln_1.weight"]["data_offsets"];
       }), "model.safetensors", "overlap"},
      {"missing tensor", edit_header([](json& h) { h.erase("h.1.mlp.c_fc.bias"); }), "model.safetensors",
       "missing tensor 'h.1.mlp.c_fc.bias'"},
      {"shape disagrees with config.json", edit_config([](json& c) { c["vocab_size"] = 62; }), "model.safetensors",
       "tensor 'wte.weight' has shape [61, 16], config.json needs [62, 16]"},
      {"more layers than config.json", edit_config([](json& c) { c["n_layer"] = 1; }), "model.safetensors",
       "belongs to layer 1, but config.json says the model has 1 layer"},
      {"no model.safetensors", [](const std::string& d) { std::filesystem::remove(d + "/model.safetensors"); },
       "model.safetensors", "cannot open"},
      {"config field missing", edit_config([](json& c) { c.erase("n_head"); }), "config.json",
       "missing field \"n_head\""},
      {"config field of the wrong type", edit_config([](json& c) { c["n_embd"] = "16"; }), "config.json",
       "\"n_embd\" must be an integer"},
      {"no n_positions nor n_ctx", edit_config([](json& c) { c.erase("n_positions"), c.erase("n_ctx"); }),
       "config.json", "n_positions"},
      {"epsilon of the wrong type", edit_config([](json& c) { c["layer_norm_epsilon"] = "tiny"; }), "config.json",
       "\"layer_norm_epsilon\" must be a positive number"},
      {"config values inconsistent", edit_config([](json& c) { c["n_head"] = 5; }), "config.json",
       "must divide d_model"},
      {"no layers", edit_config([](json& c) { c["n_layer"] = 0; }), "config.json", "n_layer must be at least 1"},
      {"config.json not JSON", write_file("config.json", "{\"n_embd\": 16,"), "config.json", "not valid JSON"},
      {"no config.json", [](const std::string& d) { std::filesystem::remove(d + "/config.json"); }, "config.json",
       "cannot open"},
      {"vocab.json not JSON", [](const std::string& d) {
         test::write_text(d + "/vocab.json", "{\"h\": ");
         test::write_text(d + "/merges.txt", test::toy_merges_txt());
       }, "vocab.json", "not valid JSON"},
      {"merges.txt malformed", [](const std::string& d) {
         test::write_text(d + "/vocab.json", test::toy_vocab_json());
         test::write_text(d + "/merges.txt", "#version: 0.2\nh e\n\tl\n");
       }, "merges.txt", "line 3"},
      {"merges.txt without vocab.json", write_file("merges.txt", test::toy_merges_txt()), "merges.txt",
       "without vocab.json"},
      {"vocabulary larger than vocab_size", [](const std::string& d) {
         test::write_text(d + "/vocab.json", test::toy_vocab_json());
         test::write_text(d + "/merges.txt", test::toy_merges_txt());
         json c = json::parse(test::slurp(d + "/config.json"));
         c["vocab_size"] = 20;
         test::write_text(d + "/config.json", c.dump());
       }, "vocab.json", "vocab_size = 20"},
      {"vocab.txt with an empty line", write_file("vocab.txt", "a\n\nb\n"), "vocab.txt", "line 2 is empty"},
  };
}
}  // namespace

TEST_CASE("model folder: each damaged file is one line naming the file and the problem, status 1", "[model_folder][cli]") {
  const hf::Gpt2 model = hf::random_gpt2(61, 16, 16, 4, 2, 21, false);
  for (const Damage& damage : damages()) {
    INFO(damage.what);
    test::TempDir dir("damaged");
    test::write_gpt2_folder(dir.path, model);
    damage.apply(dir.path);
    const test::ExecResult r = test::exec_cli({"generate", "--model", dir.path, "--ids", "1,2", "--max-new-tokens", "2"});
    CHECK(r.status == 1);
    CHECK_THAT(r.err, Catch::Contains(dir / damage.file) && Catch::Contains(damage.message));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.out.empty());
  }
  const test::ExecResult r = test::exec_cli({"generate", "--model", "/nonexistent/gpt2", "--ids", "1"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains("model folder /nonexistent/gpt2 does not exist"));
}

// Damaged Gemma 3 folders (gemma3_text): per-layer kinds, windows, rope bases and the norms Gemma adds.
TEST_CASE("model folder: each malformed Gemma 3 config or missing norm is one line naming the file, status 1", "[model_folder][gemma][cli]") {
  const gemma_ref::Shape shape;
  const gemma_ref::Model model = gemma_ref::random_model(shape, 31);
  struct GemmaDamage {
    const char* what;
    std::function<void(json& config, std::map<std::string, gemma_ref::Tensor>& tensors)> edit;
    const char* file;
    const char* message;
  };
  using T = std::map<std::string, gemma_ref::Tensor>;
  const std::vector<GemmaDamage> damages = {
      {"layer_types one short", [](json& c, T&) { c["layer_types"].erase(0); }, "config.json",
       "\"layer_types\" must list one kind per layer (6)"},
      {"layer_types with an unknown kind", [](json& c, T&) { c["layer_types"][2] = "chunked_attention"; }, "config.json",
       "layer_types[2] is \"chunked_attention\""},
      {"layer_types not a list", [](json& c, T&) { c["layer_types"] = "sliding_attention"; }, "config.json",
       "\"layer_types\" must list one kind per layer"},
      {"sliding_window 0", [](json& c, T&) { c["sliding_window"] = 0; }, "config.json", "\"sliding_window\" must be at least 1"},
      {"sliding_window negative", [](json& c, T&) { c["sliding_window"] = -4; }, "config.json", "\"sliding_window\" is out of range"},
      {"sliding_window a string", [](json& c, T&) { c["sliding_window"] = "512"; }, "config.json",
       "\"sliding_window\" must be an integer"},
      {"sliding_window_pattern 0", [](json& c, T&) { c.erase("layer_types"), c["sliding_window_pattern"] = 0; }, "config.json",
       "\"sliding_window_pattern\" must be at least 1"},
      {"rope_local_base_freq not a number", [](json& c, T&) { c["rope_local_base_freq"] = "ten thousand"; }, "config.json",
       "\"rope_local_base_freq\" must be a positive number"},
      {"rope_theta not a number", [](json& c, T&) { c["rope_theta"] = {1, 2}; }, "config.json", "\"rope_theta\" must be a positive number"},
      {"query_pre_attn_scalar zero", [](json& c, T&) { c["query_pre_attn_scalar"] = 0; }, "config.json",
       "\"query_pre_attn_scalar\" must be a positive number"},
      {"another activation", [](json& c, T&) { c["hidden_activation"] = "silu"; }, "config.json", "Gemma 3 uses \"gelu_pytorch_tanh\""},
      {"rope_scaling yarn", [](json& c, T&) { c["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}}; }, "config.json",
       "rope_scaling type \"yarn\" is not supported"},
      {"no post-feed-forward norm", [](json&, T& t) { t.erase("model.layers.2.post_feedforward_layernorm.weight"); },
       "model.safetensors", "missing tensor 'model.layers.2.post_feedforward_layernorm.weight'"},
      {"no pre-feed-forward norm", [](json&, T& t) { t.erase("model.layers.0.pre_feedforward_layernorm.weight"); },
       "model.safetensors", "missing tensor 'model.layers.0.pre_feedforward_layernorm.weight'"},
      {"no k_norm", [](json&, T& t) { t.erase("model.layers.5.self_attn.k_norm.weight"); }, "model.safetensors",
       "missing tensor 'model.layers.5.self_attn.k_norm.weight'"},
      {"no final norm", [](json&, T& t) { t.erase("model.norm.weight"); }, "model.safetensors", "missing tensor 'model.norm.weight'"},
  };
  for (const GemmaDamage& d : damages) {
    INFO(d.what);
    test::TempDir dir("gemma_damaged");
    json config = gemma_ref::config_json(shape);
    T tensors = model.tensors;
    d.edit(config, tensors);
    std::vector<kvscope::NamedTensor> named;
    for (const auto& [name, t] : tensors) named.push_back({name, t.shape, "F32", t.values.data()});
    test::write_text(dir / "config.json", config.dump());
    kvscope::write_safetensors(dir / "model.safetensors", named, {{"format", "pt"}});
    const test::ExecResult r = test::exec_cli({"generate", "--model", dir.path, "--ids", "1,2", "--max-new-tokens", "2"});
    CHECK(r.status == 1);
    CHECK_THAT(r.err, Catch::Contains(dir / d.file) && Catch::Contains(d.message));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.out.empty());
  }
}
