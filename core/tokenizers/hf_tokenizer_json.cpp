// HfTokenizer::from_file: reads tokenizer.json (the Hugging Face tokenizers format) into an
// HfTokenizerSpec, refusing by name what is neither byte-level BPE nor BPE with byte fallback.
//   {"model": {"type": "BPE", "vocab": {...}, "merges": ["a b", ...] or [["a", "b"], ...], "ignore_merges": ...},
//    "normalizer": null | NFC | Replace, "pre_tokenizer": ByteLevel | Sequence[Split..., ByteLevel],
//    with "byte_fallback": true (Gemma 3) also null or Split {"String"} MergedWithPrevious and a decoder
//    Sequence of Replace, ByteFallback, Fuse,
//    "added_tokens": [{"id", "content", "special"}, ...], "post_processor": TemplateProcessing | ...}
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/engine/kernels/error.h"
#include "core/engine/kernels/read_file.h"
#include "core/tokenizers/gpt2_pretokenizer.h"
#include "core/tokenizers/hf_tokenizer.h"

namespace kvscope {

namespace {
using nlohmann::json;

// The "type" of a component object, or "" when there is none.
std::string type_of(const json& j) {
  return j.is_object() && j.contains("type") && j["type"].is_string() ? j["type"].get<std::string>() : "";
}

// Shared error prefix for one file.
struct Reader {
  std::string path;
  [[noreturn]] void fail(const std::string& problem) const { throw DataError(path + ": " + problem); }
  int id_of(const json& j, const std::string& what) const {
    if (!j.is_number_integer() || j.get<std::int64_t>() < 0 || j.get<std::int64_t>() >= (1 << 24))
      fail(what + " has id " + j.dump() + ", not a token id");
    return j.get<int>();
  }
};

void read_bpe_model(const Reader& r, const json& model, HfTokenizerSpec& spec) {
  if (!model.is_object()) r.fail("\"model\" is missing or not an object");
  const std::string type = type_of(model);
  if (!type.empty() && type != "BPE") r.fail("tokenizer model \"" + type + "\" is not supported (byte-level BPE only)");
  if (!model.contains("merges")) r.fail("model has no \"merges\" (byte-level BPE only)");
  spec.byte_fallback = model.value("byte_fallback", false);
  spec.fuse_unk = model.value("fuse_unk", false);
  for (const char* affix : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (model.contains(affix) && model[affix].is_string() && !model[affix].get<std::string>().empty())
      r.fail(std::string("model has a ") + affix + ", not supported (byte-level BPE only)");
  if (model.contains("dropout") && model["dropout"].is_number() && model["dropout"].get<double>() > 0)
    r.fail("model has BPE dropout, which makes encoding random; not supported");
  spec.ignore_merges = model.value("ignore_merges", false);
  const json& vocab = model.contains("vocab") ? model["vocab"] : json();
  if (!vocab.is_object() || vocab.empty()) r.fail("model.vocab is missing or not an object of token -> id");
  for (auto it = vocab.begin(); it != vocab.end(); ++it)
    spec.vocab.emplace(it.key(), r.id_of(it.value(), "vocabulary token '" + it.key() + "'"));
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    auto unk = spec.vocab.find(model["unk_token"].get<std::string>());
    if (unk == spec.vocab.end()) r.fail("unk_token '" + model["unk_token"].get<std::string>() + "' is not in the vocabulary");
    spec.unk_id = unk->second;
  }
  const json& merges = model["merges"];
  if (!merges.is_array()) r.fail("model.merges is not an array");
  for (std::size_t i = 0; i < merges.size(); ++i) {
    const json& m = merges[i];
    if (m.is_string()) {
      const std::string line = m.get<std::string>();
      const std::size_t space = line.find(' ');
      if (space == 0 || space == std::string::npos || space + 1 == line.size() || line.find(' ', space + 1) != std::string::npos)
        r.fail("merge " + std::to_string(i) + " is not two tokens separated by one space: '" + line.substr(0, 60) + "'");
      spec.merges.emplace_back(line.substr(0, space), line.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      spec.merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      r.fail("merge " + std::to_string(i) + " is neither \"a b\" nor [\"a\", \"b\"]: " + m.dump().substr(0, 60));
    }
  }
}

void read_normalizer(const Reader& r, const json& normalizer, HfTokenizerSpec& spec) {
  if (normalizer.is_null()) return;
  const std::string type = type_of(normalizer);
  if (type == "NFC") {
    spec.nfc = true;
  } else if (type == "Replace" && normalizer.contains("pattern") && normalizer["pattern"].is_object() &&
             normalizer["pattern"].contains("String") && normalizer["pattern"]["String"].is_string() &&
             normalizer.contains("content") && normalizer["content"].is_string()) {
    spec.replacements.emplace_back(normalizer["pattern"]["String"].get<std::string>(), normalizer["content"].get<std::string>());
  } else if (type == "Sequence" && normalizer.contains("normalizers") && normalizer["normalizers"].is_array()) {
    for (const json& step : normalizer["normalizers"]) read_normalizer(r, step, spec);
  } else {
    r.fail("normalizer \"" + (type.empty() ? normalizer.dump().substr(0, 40) : type) +
           "\" is not supported (null, NFC or Replace {\"String\"} only)");
  }
}

// Escapes every ASCII punctuation character, so PCRE2 reads a Split {"String": ...} literally.
std::string literal_pattern(const std::string& text) {
  std::string pattern;
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x80 && !std::isalnum(static_cast<unsigned char>(c))) pattern += '\\';
    pattern += c;
  }
  return pattern;
}

// Adds one pre-tokenizer step; returns true for the ByteLevel step, which must come last.
bool read_pre_tokenizer_step(const Reader& r, const json& step, HfTokenizerSpec& spec) {
  const std::string type = type_of(step);
  if (type == "ByteLevel") {
    spec.stages.push_back({step.value("add_prefix_space", false), step.value("use_regex", true) ? kGpt2Pattern : "", ""});
    return true;
  }
  if (type == "Digits") {
    spec.stages.push_back({false, step.value("individual_digits", false) ? "\\p{N}" : "\\p{N}+", ""});
    return false;
  }
  if (type != "Split") r.fail("pre_tokenizer \"" + type + "\" is not supported (Split, Digits and ByteLevel only)");
  const json& pattern = step.contains("pattern") ? step["pattern"] : json();
  std::string regex;
  if (pattern.is_object() && pattern.contains("Regex") && pattern["Regex"].is_string())
    regex = pattern["Regex"].get<std::string>();
  else if (pattern.is_object() && pattern.contains("String") && pattern["String"].is_string())
    regex = literal_pattern(pattern["String"].get<std::string>());
  else
    r.fail("pre_tokenizer Split has no pattern {\"Regex\": ...} or {\"String\": ...}");
  if (step.value("behavior", std::string()) == "MergedWithPrevious" && !step.value("invert", false) &&
      pattern.contains("String")) {  // SentencePiece-style: "a▁b" -> "a▁", "b" (Gemma 3 splits on " ")
    spec.stages.push_back({false, "", pattern["String"].get<std::string>()});
    if (spec.stages.back().merged_with_previous.empty()) r.fail("pre_tokenizer Split has an empty pattern");
    return false;
  }
  if (step.value("behavior", std::string()) != "Isolated" || step.value("invert", false))
    r.fail("pre_tokenizer Split behavior " + step.value("behavior", json()).dump() + " is not supported (\"Isolated\" only)");
  if (regex.empty()) r.fail("pre_tokenizer Split has an empty pattern");
  spec.stages.push_back({false, regex, ""});
  return false;
}

void read_pre_tokenizer(const Reader& r, const json& pre, HfTokenizerSpec& spec) {
  std::vector<json> steps;
  if (type_of(pre) == "Sequence" && pre.contains("pretokenizers") && pre["pretokenizers"].is_array())
    steps = pre["pretokenizers"].get<std::vector<json>>();
  else if (!pre.is_null())
    steps = {pre};
  bool byte_level = false;
  for (const json& step : steps) {
    if (byte_level) r.fail("pre_tokenizer has a step after ByteLevel, not supported");
    byte_level = read_pre_tokenizer_step(r, step, spec);
  }
  if (byte_level && spec.byte_fallback) r.fail("model uses byte_fallback with a ByteLevel pre_tokenizer, not supported");
  if (!byte_level && !spec.byte_fallback)
    r.fail("pre_tokenizer has no ByteLevel step (byte-level BPE) and the model has no byte_fallback (SentencePiece-style BPE)");
}

// byte_fallback models: {"type": "Sequence", "decoders": [Replace "▁" -> " ", ByteFallback, Fuse]}.
// Replace steps are undone in the vocabulary's text; ByteFallback and Fuse are what decode does anyway.
void read_decoder(const Reader& r, const json& decoder, HfTokenizerSpec& spec) {
  if (!spec.byte_fallback || decoder.is_null()) return;  // byte-level: the stand-ins say the bytes
  const std::string type = type_of(decoder);
  if (type == "Sequence" && decoder.contains("decoders") && decoder["decoders"].is_array()) {
    for (const json& step : decoder["decoders"]) read_decoder(r, step, spec);
  } else if (type == "Replace" && decoder.contains("pattern") && decoder["pattern"].is_object() &&
             decoder["pattern"].contains("String") && decoder["pattern"]["String"].is_string() &&
             decoder.contains("content") && decoder["content"].is_string()) {
    spec.decode_replacements.emplace_back(decoder["pattern"]["String"].get<std::string>(), decoder["content"].get<std::string>());
  } else if (type != "ByteFallback" && type != "Fuse") {
    r.fail("decoder \"" + type + "\" is not supported with byte_fallback (Replace, ByteFallback and Fuse only)");
  }
}

void read_added_tokens(const Reader& r, const json& added, HfTokenizerSpec& spec) {
  if (added.is_null()) return;
  if (!added.is_array()) r.fail("added_tokens is not an array");
  for (const json& t : added) {
    if (!t.is_object() || !t.contains("content") || !t["content"].is_string() || !t.contains("id"))
      r.fail("an added token is not {\"id\": ..., \"content\": \"...\"}: " + t.dump().substr(0, 60));
    const std::string content = t["content"].get<std::string>();
    spec.added_tokens.push_back({content, r.id_of(t["id"], "added token '" + content + "'"), t.value("special", false)});
  }
}

// TemplateProcessing's "single": [{"SpecialToken": {"id": "<|begin_of_text|>"}}, {"Sequence": {"id": "A"}}]
// with "special_tokens": {"<|begin_of_text|>": {"ids": [128000]}}.
void read_template(const Reader& r, const json& processor, HfTokenizerSpec& spec) {
  const json& single = processor.contains("single") ? processor["single"] : json();
  const json& specials = processor.contains("special_tokens") ? processor["special_tokens"] : json::object();
  if (!single.is_array()) r.fail("post_processor TemplateProcessing has no \"single\" list");
  bool seen_text = false;
  for (const json& item : single) {
    if (item.is_object() && item.contains("Sequence")) {
      seen_text = true;
      continue;
    }
    const json& special = item.is_object() && item.contains("SpecialToken") ? item["SpecialToken"] : json();
    const std::string name = special.is_object() ? special.value("id", std::string()) : "";
    if (!specials.is_object() || !specials.contains(name) || !specials[name].contains("ids") || !specials[name]["ids"].is_array())
      r.fail("post_processor template item " + item.dump().substr(0, 60) + " names no entry of special_tokens");
    for (const json& id : specials[name]["ids"])
      (seen_text ? spec.suffix_ids : spec.prefix_ids).push_back(r.id_of(id, "post_processor token '" + name + "'"));
  }
}

void read_post_processor(const Reader& r, const json& processor, HfTokenizerSpec& spec) {
  const std::string type = type_of(processor);
  if (processor.is_null() || type == "ByteLevel") return;  // ByteLevel only trims offsets
  if (type == "TemplateProcessing") return read_template(r, processor, spec);
  if (type == "Sequence" && processor.contains("processors") && processor["processors"].is_array()) {
    for (const json& step : processor["processors"]) read_post_processor(r, step, spec);
    return;
  }
  r.fail("post_processor \"" + type + "\" is not supported (TemplateProcessing, ByteLevel or null)");
}

// tokenizer_config.json: {"add_bos_token": true, "bos_token": "<s>" or {"content": "<s>"}} adds a
// BOS when the post-processor does not already put one first.
void read_config(const std::string& path, HfTokenizerSpec& spec) {
  const Reader r{path};
  const json config = json::parse(read_text_file(path, "tokenizer_config.json"), nullptr, false);
  if (config.is_discarded() || !config.is_object()) r.fail("not a JSON object");
  if (!config.contains("add_bos_token") || !config["add_bos_token"].is_boolean() || !config["add_bos_token"].get<bool>()) return;
  const json& bos = config.contains("bos_token") ? config["bos_token"] : json();
  const json& content = bos.is_object() && bos.contains("content") ? bos["content"] : bos;
  if (!content.is_string()) r.fail("add_bos_token is true but bos_token is not a token");
  const std::string name = content.get<std::string>();
  int id = -1;
  for (const auto& added : spec.added_tokens)
    if (added.content == name) id = added.id;
  if (id < 0 && spec.vocab.count(stand_in_spelling(name))) id = spec.vocab.at(stand_in_spelling(name));
  if (id < 0) r.fail("bos_token '" + name + "' is not a token of tokenizer.json");
  if (spec.prefix_ids.empty() || spec.prefix_ids.front() != id) spec.prefix_ids.insert(spec.prefix_ids.begin(), id);
}

HfTokenizerSpec parse_spec(const std::string& text, const std::string& path) {
  const Reader r{path};
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) r.fail("not valid JSON");
  if (!j.is_object()) r.fail("not a JSON object (a Hugging Face tokenizer.json)");
  HfTokenizerSpec spec;
  try {
    read_bpe_model(r, j.contains("model") ? j["model"] : json(), spec);
    read_normalizer(r, j.value("normalizer", json()), spec);
    read_pre_tokenizer(r, j.value("pre_tokenizer", json()), spec);
    read_decoder(r, j.value("decoder", json()), spec);
    read_added_tokens(r, j.value("added_tokens", json()), spec);
    read_post_processor(r, j.value("post_processor", json()), spec);
  } catch (const json::exception& e) {  // a field of the wrong JSON type
    r.fail(std::string("unexpected JSON type: ") + e.what());
  }
  return spec;
}
}  // namespace

HfTokenizer HfTokenizer::from_text(const std::string& json_text, const std::string& name) {
  const HfTokenizerSpec spec = parse_spec(json_text, name);
  try {
    return HfTokenizer(spec);
  } catch (const DataError& e) {
    throw DataError(name + ": " + e.what());
  }
}

HfTokenizer HfTokenizer::from_file(const std::string& tokenizer_json_path) {
  HfTokenizerSpec spec = parse_spec(read_text_file(tokenizer_json_path, "tokenizer.json"), tokenizer_json_path);
  const std::filesystem::path config = std::filesystem::path(tokenizer_json_path).parent_path() / "tokenizer_config.json";
  std::error_code error;  // a config that cannot even be checked counts as absent
  if (std::filesystem::is_regular_file(config, error)) {
    try {
      read_config(config.string(), spec);
    } catch (const json::exception& e) {
      throw DataError(config.string() + ": unexpected JSON type: " + e.what());
    }
  }
  try {
    return HfTokenizer(spec);
  } catch (const DataError& e) {
    throw DataError(tokenizer_json_path + ": " + e.what());
  }
}

}  // namespace kvscope
