#include "core/lessons/lesson.h"

#include "core/engine/forward/numerics.h"

#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/engine/cache/kv_policy.h"
#include "core/lessons/cache_calculator.h"
#include "core/lessons/wall_cache.h"
#include "core/engine/kernels/error.h"
#include "core/engine/kernels/read_file.h"

namespace kvscope {

const std::vector<LessonView>& lesson_views() {
  static const std::vector<LessonView> all = {LessonView::Heatmaps, LessonView::Calculator, LessonView::Rotation,
                                              LessonView::Heads, LessonView::Quantized, LessonView::Speculation,
                                              LessonView::MemoryWall};
  return all;
}

const char* lesson_view_name(LessonView view) {
  switch (view) {
    case LessonView::Heatmaps: return "heatmaps";
    case LessonView::Calculator: return "calculator";
    case LessonView::Rotation: return "rotation";
    case LessonView::Heads: return "heads";
    case LessonView::Quantized: return "quantized";
    case LessonView::Speculation: return "speculation";
    case LessonView::MemoryWall: return "memory_wall";
  }
  return "";
}

bool parse_lesson_view(const std::string& name, LessonView* out) {
  for (LessonView v : lesson_views())
    if (name == lesson_view_name(v)) {
      *out = v;
      return true;
    }
  return false;
}

std::string lesson_view_names() {
  std::string s;
  for (LessonView v : lesson_views()) s += (s.empty() ? "" : ", ") + std::string(lesson_view_name(v));
  return s;
}

namespace {

using nlohmann::json;

struct Reader {
  const json& j;
  const std::string& where;  // "x.json" or "x.json: steps[2]"

  [[noreturn]] void fail(const std::string& problem) const { throw DataError(where + ": " + problem); }

  void only(const std::set<std::string>& known) const {
    for (auto it = j.begin(); it != j.end(); ++it)
      if (!known.count(it.key())) fail("unknown field \"" + it.key() + "\"");
  }
  std::string text(const char* key, bool required = false) const {
    if (!j.contains(key)) {
      if (required) fail(std::string("missing \"") + key + "\"");
      return "";
    }
    if (!j[key].is_string()) fail(std::string("\"") + key + "\" must be a string");
    return j[key].get<std::string>();
  }
  long long integer(const char* key, long long fallback, long long lo, long long hi) const {
    if (!j.contains(key)) return fallback;
    const json& v = j[key];
    if (!v.is_number_integer() || v.get<long long>() < lo || v.get<long long>() > hi)
      fail(std::string("\"") + key + "\" must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
    return v.get<long long>();
  }
};

LessonKind parse_kind(const Reader& r) {
  const std::string k = r.text("kind");
  if (k.empty()) return LessonKind::Decode;
  std::string known;
  for (LessonKind kind : kLessonKinds) {
    if (k == lesson_kind_name(kind)) return kind;
    known += std::string(known.empty() ? "" : ", ") + lesson_kind_name(kind);
  }
  r.fail("unknown \"kind\" \"" + k + "\" (known: " + known + ")");
}

CalculatorSetting parse_calculator(const json& j, const std::string& where) {
  if (!j.is_object()) throw DataError(where + ": \"calculator\" must be an object");
  const std::string here = where + ": calculator";
  const Reader r{j, here};
  r.only({"shape", "dtype", "tokens"});
  CalculatorSetting c;
  c.set = true;
  if (j.contains("shape")) c.shape = r.text("shape");
  if (!is_cache_shape_name(c.shape)) r.fail("unknown \"shape\" \"" + c.shape + "\"");
  if (j.contains("dtype")) c.dtype = r.text("dtype");
  KvDtype dtype;
  if (!parse_kv_dtype(c.dtype, &dtype)) r.fail("\"dtype\" must be fp32, bf16 or fp8, got \"" + c.dtype + "\"");
  c.tokens = r.integer("tokens", 0, 0, 1LL << 40);
  return c;
}

std::vector<LessonStep> parse_steps(const json& j, const std::string& source) {
  std::vector<LessonStep> steps;
  if (!j.contains("steps")) return steps;
  if (!j["steps"].is_array()) throw DataError(source + ": \"steps\" must be an array");
  for (std::size_t i = 0; i < j["steps"].size(); ++i) {
    const json& s = j["steps"][i];
    const std::string where = source + ": steps[" + std::to_string(i) + "]";
    if (!s.is_object()) throw DataError(where + " must be an object");
    const Reader r{s, where};
    r.only({"caption", "note", "calculator", "view"});
    LessonStep step{r.text("caption"), r.text("note"), {}};
    if (s.contains("calculator")) step.calculator = parse_calculator(s["calculator"], where);
    const std::string view = r.text("view");
    if (!view.empty() && !parse_lesson_view(view, &step.view))
      r.fail("\"view\" \"" + view + "\" is not a view (" + lesson_view_names() + ")");
    if (!view.empty() && step.calculator.set) r.fail("a step sets \"calculator\" or \"view\", not both");
    step.sets_view = !view.empty() || step.calculator.set;
    if (step.calculator.set) step.view = LessonView::Calculator;
    steps.push_back(step);
  }
  return steps;
}

std::vector<std::string> parse_questions(const Reader& r) {
  std::vector<std::string> out;
  if (!r.j.contains("questions")) return out;
  const json& q = r.j["questions"];
  if (!q.is_array()) r.fail("\"questions\" must be an array of strings");
  for (const json& s : q) {
    if (!s.is_string() || s.get<std::string>().find_first_not_of(" \t") == std::string::npos)
      r.fail("each of \"questions\" must be a non-empty string");
    out.push_back(s.get<std::string>());
  }
  return out;
}

// A policy spec, checked now so a bad one names the lesson file.
std::string policy_spec(const Reader& r, const std::string& spec, const std::string& field) {
  try {
    return parse_kv_policy(spec).to_string();
  } catch (const UsageError& e) {
    r.fail(field + ": " + e.what());
  }
}

std::string numerics_spec(const Reader& r, const std::string& spec, const std::string& what) {
  Numerics n;
  if (!parse_numerics(spec, &n))
    r.fail(what + " \"" + spec + "\" is not a numerics spec (" + compute_dtype_names() + ", optionally \",same-order\")");
  return spec;
}

// A memory-wall cache spec, checked now so a bad one names the lesson file.
std::string wall_cache_spec(const Reader& r, const std::string& spec, const std::string& field) {
  try {
    return parse_wall_cache(spec).spec;
  } catch (const UsageError& e) {
    r.fail(field + ": " + e.what());
  }
}

// cache_policy: policy specs; precision: numerics specs; memory_wall: caches to measure.
std::vector<std::string> parse_compare(const Reader& r, LessonKind kind) {
  std::vector<std::string> out;
  if (!r.j.contains("compare")) return out;
  const json& c = r.j["compare"];
  const char* what = kind == LessonKind::Precision ? "numerics spec" : kind == LessonKind::MemoryWall ? "cache spec" : "policy spec";
  if (!c.is_array()) r.fail(std::string("\"compare\" must be an array of ") + what + "s");
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (!c[i].is_string()) r.fail(std::string("each of \"compare\" must be a ") + what + " string");
    const std::string where = "\"compare\"[" + std::to_string(i) + "]";
    const std::string spec = c[i].get<std::string>();
    out.push_back(kind == LessonKind::Precision    ? numerics_spec(r, spec, where)
                  : kind == LessonKind::MemoryWall ? wall_cache_spec(r, spec, where)
                                                   : policy_spec(r, spec, where));
  }
  return out;
}

// memory_wall: ascending positions, one step each.
std::vector<int> parse_lengths(const Reader& r) {
  std::vector<int> out;
  if (!r.j.contains("lengths")) return out;
  const json& l = r.j["lengths"];
  if (!l.is_array() || l.empty()) r.fail("\"lengths\" must be a non-empty array of positions");
  for (const json& n : l) {
    if (!n.is_number_integer() || n.get<long long>() < 2 || n.get<long long>() > 1000000)
      r.fail("each of \"lengths\" must be a whole number from 2 to 1000000");
    if (!out.empty() && n.get<int>() <= out.back()) r.fail("\"lengths\" must rise");
    out.push_back(n.get<int>());
  }
  return out;
}

BatchAction parse_action(const json& j, const std::string& where) {
  if (!j.is_object()) throw DataError(where + " must be an object");
  const Reader r{j, where};
  BatchAction a;
  a.round = int(r.integer("round", -1, 0, 1000));
  if (a.round < 0) r.fail("missing \"round\"");
  const std::string what = r.text("do", true);
  bool known = false;
  for (BatchActionKind kind : {BatchActionKind::Join, BatchActionKind::Fork, BatchActionKind::Truncate, BatchActionKind::Edit})
    if (what == batch_action_name(kind)) a.kind = kind, known = true;
  if (!known) r.fail("unknown \"do\" \"" + what + "\" (known: join, fork, truncate, edit)");
  switch (a.kind) {
    case BatchActionKind::Join:
      r.only({"round", "do", "text"});
      a.text = r.text("text", true);
      if (a.text.find_first_not_of(" \t\n") == std::string::npos) r.fail("\"text\" is empty");
      break;
    case BatchActionKind::Fork:
      r.only({"round", "do", "sequence", "temperature", "seed"});
      if (j.contains("temperature") && (!j["temperature"].is_number() || j["temperature"].get<double>() < 0 ||
                                        j["temperature"].get<double>() > 10))
        r.fail("\"temperature\" must be a number from 0 to 10");
      a.temperature = j.value("temperature", 0.0f);
      a.seed = int(r.integer("seed", 0, 0, 1LL << 30));
      break;
    case BatchActionKind::Truncate:
      r.only({"round", "do", "sequence", "tokens"});
      a.tokens = int(r.integer("tokens", 0, 1, 100000));
      if (!j.contains("tokens")) r.fail("missing \"tokens\" (how many to keep)");
      break;
    case BatchActionKind::Edit:
      r.only({"round", "do", "sequence", "position", "text"});
      a.position = int(r.integer("position", -1, 0, 100000));
      if (a.position < 0) r.fail("missing \"position\"");
      a.text = r.text("text", true);
      break;
  }
  if (a.kind != BatchActionKind::Join) {
    a.sequence = int(r.integer("sequence", -1, 0, 1000));
    if (a.sequence < 0) r.fail("missing \"sequence\"");
    // The panes show sequence 0's own run: changing its tokens would make them show something else.
    if (a.sequence == 0 && a.kind != BatchActionKind::Fork) r.fail("sequence 0 is the one the panes follow; rewind or edit another");
  }
  return a;
}

std::vector<BatchAction> parse_actions(const Reader& r) {
  std::vector<BatchAction> out;
  if (!r.j.contains("actions")) return out;
  if (!r.j["actions"].is_array()) r.fail("\"actions\" must be an array");
  for (std::size_t i = 0; i < r.j["actions"].size(); ++i) {
    out.push_back(parse_action(r.j["actions"][i], r.where + ": actions[" + std::to_string(i) + "]"));
    if (i > 0 && out[i].round < out[i - 1].round) r.fail("\"actions\" must be in round order");
  }
  return out;
}

std::string stem_of(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0) name.resize(name.size() - 5);
  return name;
}

}  // namespace

const char* lesson_kind_name(LessonKind kind) {
  switch (kind) {
    case LessonKind::Decode: return "decode";
    case LessonKind::Query: return "query";
    case LessonKind::SameWord: return "same_word";
    case LessonKind::ContextLimit: return "context_limit";
    case LessonKind::PrefixReuse: return "prefix_reuse";
    case LessonKind::CacheSize: return "cache_size";
    case LessonKind::CachePolicy: return "cache_policy";
    case LessonKind::Batch: return "batch";
    case LessonKind::Speculative: return "speculative";
    case LessonKind::Precision: return "precision";
    case LessonKind::MemoryWall: return "memory_wall";
  }
  return "?";
}

const char* batch_action_name(BatchActionKind kind) {
  switch (kind) {
    case BatchActionKind::Join: return "join";
    case BatchActionKind::Fork: return "fork";
    case BatchActionKind::Truncate: return "truncate";
    case BatchActionKind::Edit: return "edit";
  }
  return "?";
}

Lesson parse_lesson(const std::string& text, const std::string& source) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw DataError(source + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw DataError(source + ": a lesson must be a JSON object");
  const Reader r{j, source};
  r.only({"title", "summary", "kind", "preset", "prompt", "continuation", "layer", "head", "window", "key_step", "word",
          "questions", "answer_tokens", "steps", "policy", "compare", "block_size", "actions", "draft", "draft_tokens",
          "numerics", "prompt_length", "lengths", "timed_tokens"});
  Lesson lesson;
  lesson.source = source;
  lesson.name = stem_of(source);
  lesson.title = r.text("title");
  lesson.summary = r.text("summary");
  lesson.kind = parse_kind(r);
  lesson.preset = r.text("preset");
  lesson.prompt = r.text("prompt", true);
  if (lesson.prompt.find_first_not_of(" \t\n") == std::string::npos) r.fail("\"prompt\" is empty");
  lesson.continuation = r.text("continuation");
  lesson.prompt_length = int(r.integer("prompt_length", 0, 0, 1000000));
  lesson.layer = int(r.integer("layer", 0, 0, 1000));
  lesson.head = int(r.integer("head", 0, 0, 1000));
  lesson.window = int(r.integer("window", 0, 0, 100000));
  lesson.key_step = int(r.integer("key_step", -1, -1, 100000));
  lesson.word = r.text("word");
  lesson.questions = parse_questions(r);
  lesson.answer_tokens = int(r.integer("answer_tokens", 3, 1, 64));
  lesson.block_size = int(r.integer("block_size", 4, 1, 4096));
  lesson.actions = parse_actions(r);
  lesson.steps = parse_steps(j, source);
  if (j.contains("policy")) lesson.policy = policy_spec(r, r.text("policy"), "\"policy\"");
  lesson.compare = parse_compare(r, lesson.kind);
  lesson.lengths = parse_lengths(r);
  lesson.timed_tokens = int(r.integer("timed_tokens", 8, 1, 64));
  const bool wall = lesson.kind == LessonKind::MemoryWall;
  if (wall != j.contains("lengths")) r.fail(wall ? "a memory_wall lesson needs \"lengths\"" : "\"lengths\" belongs to memory_wall lessons");
  if (!wall && j.contains("timed_tokens")) r.fail("\"timed_tokens\" belongs to memory_wall lessons");
  if (wall && (j.contains("policy") || j.contains("continuation") || lesson.window != 0 || j.contains("prompt_length")))
    r.fail("a memory_wall lesson grows its prompt to each of \"lengths\" on plain caches (no \"policy\", \"continuation\", \"window\" or \"prompt_length\")");
  if (wall && !lesson.steps.empty() && lesson.steps.size() != lesson.lengths.size())
    r.fail("\"steps\" has " + std::to_string(lesson.steps.size()) + " entries for " + std::to_string(lesson.lengths.size()) + " \"lengths\"");
  if (j.contains("draft")) lesson.draft = r.text("draft", true);
  lesson.draft_tokens = int(r.integer("draft_tokens", 4, 0, 16));
  if (j.contains("numerics")) lesson.numerics = numerics_spec(r, r.text("numerics", true), "\"numerics\"");
  if (lesson.kind == LessonKind::CachePolicy && lesson.policy.empty())
    r.fail("a cache_policy lesson needs a \"policy\"");
  if (lesson.kind != LessonKind::CachePolicy && lesson.kind != LessonKind::Precision && !wall && j.contains("compare"))
    r.fail("\"compare\" belongs to cache_policy, precision and memory_wall lessons");
  if (lesson.kind != LessonKind::Speculative && (j.contains("draft") || j.contains("draft_tokens")))
    r.fail("\"draft\" and \"draft_tokens\" belong to speculative lessons");
  if (lesson.kind != LessonKind::Precision && j.contains("numerics")) r.fail("\"numerics\" belongs to precision lessons");
  if (lesson.kind == LessonKind::Speculative && (j.contains("policy") || j.contains("continuation") || lesson.window != 0))
    r.fail("a speculative lesson decodes greedily on plain caches (no \"policy\", \"continuation\" or \"window\")");
  if (lesson.kind == LessonKind::PrefixReuse && j.contains("policy")) r.fail("a prefix_reuse lesson runs the plain cache");
  if (lesson.title.empty()) lesson.title = lesson.prompt;
  if (lesson.kind == LessonKind::PrefixReuse && lesson.questions.empty())
    r.fail("a prefix_reuse lesson needs \"questions\" (at least one)");
  if (lesson.kind == LessonKind::PrefixReuse && lesson.window != 0)
    r.fail("a prefix_reuse lesson runs without a window (\"window\": 0)");
  const bool has_questions = lesson.kind == LessonKind::PrefixReuse || lesson.kind == LessonKind::Batch;
  if (!has_questions && j.contains("questions")) r.fail("\"questions\" belongs to prefix_reuse and batch lessons");
  if (!has_questions && lesson.kind != LessonKind::Speculative && j.contains("answer_tokens"))
    r.fail("\"answer_tokens\" belongs to prefix_reuse, batch and speculative lessons");
  if (lesson.kind != LessonKind::Batch && (j.contains("block_size") || j.contains("actions")))
    r.fail("\"block_size\" and \"actions\" belong to batch lessons");
  if (lesson.kind == LessonKind::Batch && (j.contains("policy") || j.contains("continuation") || lesson.window != 0))
    r.fail("a batch lesson runs the plain paged cache on greedy tokens (no \"policy\", \"continuation\" or \"window\")");
  if (lesson.kind != LessonKind::SameWord && j.contains("word")) r.fail("\"word\" belongs to same_word lessons");
  if (lesson.kind == LessonKind::ContextLimit && lesson.window == 0)
    r.fail("a context_limit lesson needs a sliding \"window\" to compare with the hard stop");
  if (lesson.key_step >= 0 && !lesson.steps.empty() && lesson.key_step >= int(lesson.steps.size()))
    r.fail("\"key_step\" " + std::to_string(lesson.key_step) + " is past the last of " +
           std::to_string(lesson.steps.size()) + " steps");
  return lesson;
}

Lesson load_lesson_file(const std::string& path) {
  return parse_lesson(read_text_file(path, "the lesson file"), path);
}

std::vector<Lesson> builtin_lessons() {
  std::vector<Lesson> out;
  for (const EmbeddedFile& t : embedded_builtin_lessons()) out.push_back(builtin_lesson(t.name));
  return out;
}

Lesson builtin_lesson(const std::string& name) {
  std::string known;
  for (const EmbeddedFile& t : embedded_builtin_lessons()) {
    if (name == t.name) {
      Lesson l = parse_lesson(t.text(), "built-in lesson " + name);
      l.name = name;
      return l;
    }
    known += (known.empty() ? "" : ", ") + std::string(t.name);
  }
  throw UsageError("no built-in lesson '" + name + "' (built in: " + known + ")");
}

Lesson default_lesson() { return builtin_lesson("time_flies_fast"); }

std::string builtin_lesson_names() {
  std::string s;
  for (const EmbeddedFile& f : embedded_builtin_lessons()) s += std::string(s.empty() ? "" : ", ") + f.name;
  return s;
}

Lesson load_lesson(const std::string& path_or_name) {
  if (std::ifstream(path_or_name).good() || path_or_name.find('/') != std::string::npos)
    return load_lesson_file(path_or_name);
  const std::string name = stem_of(path_or_name);
  for (const EmbeddedFile& t : embedded_builtin_lessons())
    if (name == t.name) return builtin_lesson(name);
  return load_lesson_file(path_or_name);  // names the missing file
}

}  // namespace kvscope
