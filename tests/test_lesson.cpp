// Lesson files: the built-in lessons are the files in examples/lessons/, and broken files fail with one
// line naming the file and the problem.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "core/engine/kernels/error.h"
#include "core/lessons/lesson.h"
#include "core/lessons/lesson_run.h"
#include "core/lessons/prompt_fill.h"
#include "core/tokenizers/id_tokenizer.h"
#include "lesson_helpers.h"

using namespace kvscope;

namespace {
std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

TEST_CASE("every examples/lessons/*.json is built in, byte for byte, in the menu's order", "[lesson]") {
  const std::string dir = KVSCOPE_SOURCE_DIR "/examples/lessons";
  std::set<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".json") files.insert(entry.path().stem().string());
  std::set<std::string> built_in;
  for (const EmbeddedFile& t : embedded_builtin_lessons()) {
    INFO(t.name);
    built_in.insert(t.name);
    CHECK(read_text(dir + "/" + t.name + ".json") == t.text());
  }
  CHECK(files == built_in);
  REQUIRE(embedded_builtin_lessons().size() == 20);
  CHECK(std::string(embedded_builtin_lessons()[0].name) == "time_flies_fast");
  const std::vector<LessonKind> kinds = {LessonKind::Decode,       LessonKind::Query,       LessonKind::SameWord,
                                         LessonKind::ContextLimit, LessonKind::PrefixReuse, LessonKind::CacheSize,
                                         LessonKind::SameWord,     LessonKind::ContextLimit, LessonKind::CacheSize,
                                         LessonKind::CachePolicy,  LessonKind::CachePolicy, LessonKind::CachePolicy,
                                         LessonKind::CacheSize,    LessonKind::CacheSize,   LessonKind::Batch,
                                         LessonKind::Batch,        LessonKind::Batch,       LessonKind::Speculative,
                                         LessonKind::Precision,    LessonKind::MemoryWall};
  const std::vector<Lesson> lessons = builtin_lessons();
  for (std::size_t i = 0; i < lessons.size(); ++i) {
    INFO(lessons[i].name);
    CHECK(lessons[i].kind == kinds[i]);
    CHECK(lessons[i].preset == (i < 6    ? "demo"  // the six first lessons stay on demo
                                : i < 12 ? "demo-llama"
                                : i < 13 ? "demo-mla"
                                : i < 14 ? "gemma3-layout"
                                : i < 17 ? "demo"
                                : i < 18 ? "demo-llama"
                                : i < 19 ? "gpt2-small"
                                         : "long-demo"));
    CHECK_FALSE(lessons[i].summary.empty());
    for (const LessonStep& s : lessons[i].steps) CHECK_FALSE(s.note.empty());  // every step has a teacher's note
  }
}

TEST_CASE("the default lesson and lessons by name", "[lesson]") {
  const Lesson l = default_lesson();
  CHECK(l.name == "time_flies_fast");
  CHECK(l.prompt == "Time");
  CHECK(l.continuation.empty());  // the model picks "flies" and "fast" itself
  CHECK(l.steps.size() == 3);
  {  // nothing forced, and demo still says "Time flies fast"
    LessonRun run(l, load_preset("demo"));
    for (int s = 0; s < 3; ++s) run.step();
    const std::vector<StepTrace>& h = run.history();
    CHECK(h[0].next_text == "flies");
    CHECK(h[1].next_text == "fast");
    for (const StepTrace& t : h) CHECK_FALSE(t.forced);
  }
  CHECK(load_lesson("why_not_cache_q").kind == LessonKind::Query);
  CHECK(load_lesson("context_limit.json").window == 16);
  const Lesson file = load_lesson(KVSCOPE_SOURCE_DIR "/examples/lessons/same_word_two_positions.json");
  CHECK(file.word == "duck");
  CHECK(file.source.find("same_word_two_positions.json") != std::string::npos);
  CHECK_THROWS_WITH(load_lesson("/nonexistent/lesson.json"), Catch::Contains("/nonexistent/lesson.json"));
  CHECK_THROWS_WITH(load_lesson("no_such_lesson"), Catch::Contains("no_such_lesson"));
  CHECK_THROWS_AS(builtin_lesson("no_such_lesson"), UsageError);
}

TEST_CASE("broken lesson files: one line naming the file and the problem", "[lesson]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{not json", "not valid JSON"},
      {"[1, 2]", "must be a JSON object"},
      {"{\"title\": \"x\"}", "missing \"prompt\""},
      {"{\"prompt\": 3}", "\"prompt\" must be a string"},
      {"{\"prompt\": \"  \"}", "\"prompt\" is empty"},
      {"{\"prompt\": \"Time\", \"continuaton\": \"flies\"}", "unknown field \"continuaton\""},
      {"{\"prompt\": \"Time\", \"kind\": \"magic\"}", "unknown \"kind\" \"magic\""},
      {"{\"prompt\": \"Time\", \"layer\": -1}", "\"layer\" must be an integer"},
      {"{\"prompt\": \"Time\", \"window\": 1.5}", "\"window\" must be an integer"},
      {"{\"prompt\": \"Time\", \"prompt_length\": -5}", "\"prompt_length\" must be an integer"},
      {"{\"prompt\": \"Time\", \"prompt_length\": \"long\"}", "\"prompt_length\" must be an integer"},
      {"{\"prompt\": \"Time\", \"prompt_length\": 2000000}", "\"prompt_length\" must be an integer"},
      {"{\"prompt\": \"Time\", \"steps\": {}}", "\"steps\" must be an array"},
      {"{\"prompt\": \"Time\", \"steps\": [3]}", "steps[0] must be an object"},
      {"{\"prompt\": \"Time\", \"steps\": [{\"note\": 1}]}", "steps[0]: \"note\" must be a string"},
      {"{\"prompt\": \"Time\", \"steps\": [{}, {\"notes\": \"x\"}]}", "steps[1]: unknown field \"notes\""},
      {"{\"prompt\": \"Time\", \"kind\": \"cache_size\", \"steps\": [{\"calculator\": {\"dtype\": \"fp4\"}}]}",
       "\"dtype\" must be fp32, bf16 or fp8"},
      {"{\"prompt\": \"Time\", \"kind\": \"cache_size\", \"steps\": [{\"calculator\": {\"shape\": \"gpt5\"}}]}",
       "unknown \"shape\" \"gpt5\""},
      {"{\"prompt\": \"Time\", \"kind\": \"prefix_reuse\"}", "needs \"questions\""},
      {"{\"prompt\": \"Time\", \"kind\": \"prefix_reuse\", \"questions\": [\"\"]}", "non-empty string"},
      {"{\"prompt\": \"Time\", \"questions\": [\"a\"]}", "\"questions\" belongs to prefix_reuse and batch lessons"},
      {"{\"prompt\": \"Time\", \"kind\": \"context_limit\"}", "needs a sliding \"window\""},
      {"{\"prompt\": \"Time\", \"draft\": \"demo\"}", "\"draft\" and \"draft_tokens\" belong to speculative lessons"},
      {"{\"prompt\": \"Time\", \"kind\": \"speculative\", \"draft_tokens\": 17}", "\"draft_tokens\""},
      {"{\"prompt\": \"Time\", \"kind\": \"speculative\", \"continuation\": \"flies\"}", "decodes greedily on plain caches"},
      {"{\"prompt\": \"Time\", \"numerics\": \"bf16\"}", "\"numerics\" belongs to precision lessons"},
      {"{\"prompt\": \"Time\", \"kind\": \"precision\", \"numerics\": \"bf8\"}", "\"numerics\" \"bf8\" is not a numerics spec"},
      {"{\"prompt\": \"Time\", \"kind\": \"precision\", \"compare\": [\"f16,other-order\"]}", "\"compare\"[0] \"f16,other-order\" is not a numerics spec"},
      {"{\"prompt\": \"Time\", \"key_step\": 3, \"steps\": [{}]}", "\"key_step\" 3 is past the last of 1 steps"},
      {"{\"prompt\": \"Time\", \"steps\": [{\"view\": \"hologram\"}]}",
       "steps[0]: \"view\" \"hologram\" is not a view (heatmaps, calculator, rotation, heads, quantized, speculation, memory_wall)"},
      {"{\"prompt\": \"Time\", \"steps\": [{\"view\": 3}]}", "steps[0]: \"view\" must be a string"},
      {"{\"prompt\": \"Time\", \"kind\": \"cache_size\", \"steps\": [{\"view\": \"heads\", \"calculator\": {}}]}",
       "sets \"calculator\" or \"view\", not both"},
  };
  for (const auto& [text, problem] : cases) {
    INFO(text);
    try {
      parse_lesson(text, "x.json");
      FAIL("parsed a broken lesson");
    } catch (const DataError& e) {
      const std::string message = e.what();
      CHECK(message.rfind("x.json: ", 0) == 0);
      CHECK(message.find(problem) != std::string::npos);
      CHECK(message.find('\n') == std::string::npos);
    }
  }
}

TEST_CASE("lessons the model cannot run name the file and the field", "[lesson]") {
  const LoadedModel demo = load_preset("demo");
  auto run_error = [&](const std::string& json) -> std::string {
    try {
      LessonRun run(parse_lesson(json, "bad.json"), demo);
    } catch (const DataError& e) {
      return e.what();
    }
    return "";
  };
  CHECK_THAT(run_error("{\"prompt\": \"Time flies xylophone\"}"),
             Catch::StartsWith("bad.json: prompt: ") && Catch::Contains("xylophone"));
  CHECK_THAT(run_error("{\"prompt\": \"Time\", \"continuation\": \"flies qwerty\"}"),
             Catch::StartsWith("bad.json: continuation: "));
  // 3 prompt tokens + 40 forced steps do not fit a context of 32.
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += " fast";
  CHECK_THAT(run_error("{\"prompt\": \"Time flies fast\", \"continuation\": \"" + long_text + "\"}"),
             Catch::StartsWith("bad.json: ") && Catch::Contains("context length is 32"));
  CHECK_THAT(run_error("{\"prompt\": \"Time\", \"continuation\": \"flies\", \"steps\": [{}, {}, {}]}"), Catch::Equals(""));
  CHECK_THAT(run_error("{\"prompt\": \"Time\", \"kind\": \"prefix_reuse\", \"questions\": [\"what is the sun ?\"], "
                       "\"steps\": [{}, {}, {}, {}, {}]}"),
             Catch::Contains("\"steps\" has 5 entries but the lesson runs 4 steps"));
}

TEST_CASE("a teacher's note that names the position or the prompt's length names the step's own", "[lesson]") {
  // Notes are written for the lesson's own prompt, and a note that says "Position 58." beside a frame
  // at position 57 contradicts the trace on screen; so do "a 53-token prompt" and a prompt of 52.
  const std::regex position("^Position (\\d+)"), prompt("(\\d+)-token prompt");
  int checked = 0;
  for (const Lesson& lesson : builtin_lessons()) {
    if (test::too_long_for_sanitizers(lesson)) continue;
    const LessonRun run = test::run_lesson_to_end(lesson, load_preset(lesson.preset.empty() ? "demo" : lesson.preset));
    for (int s = 0; s < run.steps_done() && s < int(lesson.steps.size()); ++s) {
      const std::string& note = lesson.steps[std::size_t(s)].note;
      const StepTrace& t = run.history()[std::size_t(s)];
      INFO(lesson.name << " step " << s << ": " << note);
      std::smatch m;
      if (std::regex_search(note, m, position)) {
        CHECK(std::stoi(m[1]) == t.newest_position());
        ++checked;
      }
      if (std::regex_search(note, m, prompt) && lesson.kind != LessonKind::Batch) {
        CHECK(std::stoi(m[1]) == int(run.prompt_ids().size()));
        ++checked;
      }
    }
  }
  CHECK(checked >= 20);
}

TEST_CASE("prompt_length fills the prompt from the built-in corpus, as the tokenizer reads it", "[lesson]") {
  // The corpus file as a teacher reads it: its non-comment lines joined by spaces.
  std::ifstream in(std::string(KVSCOPE_SOURCE_DIR) + "/examples/corpus/demo_corpus.txt");
  std::string line, corpus;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#') corpus += (corpus.empty() ? "" : " ") + line;
  REQUIRE(corpus.size() > 1000);
  SECTION("a tokenizer with a vocabulary: the prompt, then the corpus encoded, cut at the length") {
    Lesson lesson = parse_lesson(R"({"prompt": "Time", "preset": "demo-llama", "prompt_length": 60})", "x.json");
    const LoadedModel model = load_preset("demo-llama");
    const LessonRun run(lesson, model);
    REQUIRE(run.prompt_ids().size() == 60);
    const std::vector<int> prompt = model.tokenizer->encode_prompt("Time");
    const std::vector<int> rest = model.tokenizer->encode(" " + corpus);
    CHECK(std::equal(prompt.begin(), prompt.end(), run.prompt_ids().begin()));
    CHECK(std::equal(run.prompt_ids().begin() + std::ptrdiff_t(prompt.size()), run.prompt_ids().end(), rest.begin()));
  }
  SECTION("no vocabulary: the prompt's and the corpus's bytes as ids, the corpus repeated") {
    Lesson lesson = parse_lesson(R"({"prompt": "Hi", "preset": "smollm2-135m", "prompt_length": 1000})", "x.json");
    const LessonRun run(lesson, load_preset("smollm2-135m"));
    REQUIRE(run.prompt_ids().size() == 1000);
    CHECK(run.prompt_ids()[0] == 'H');
    CHECK(run.prompt_ids()[1] == 'i');
    const std::vector<int> ids = fill_prompt(IdTokenizer(50000), {'H', 'i'}, 40000);
    REQUIRE(ids.size() == 40000);
    CHECK(std::equal(run.prompt_ids().begin(), run.prompt_ids().end(), ids.begin()));
    for (std::size_t i = 0; i + 2 < ids.size(); i += 97) CHECK(ids[2 + i] == int(static_cast<unsigned char>(corpus[i % corpus.size()])));
  }
  SECTION("a prompt longer than the length, or a length past the context, is refused naming the lesson") {
    const LoadedModel model = load_preset("demo-llama");
    CHECK_THROWS_WITH(LessonRun(parse_lesson(R"({"prompt": "Time flies fast", "prompt_length": 2})", "x.json"), model),
                      Catch::Contains("x.json") && Catch::Contains("longer than the length asked for (2)"));
    CHECK_THROWS_AS(LessonRun(parse_lesson(R"({"prompt": "Time", "prompt_length": 100000})", "x.json"), model), DataError);
  }
}
