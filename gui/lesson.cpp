#include "gui/lesson.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "gui/embedded.h"

namespace kvscope::gui {

namespace {

std::string get_string(const nlohmann::json& j, const char* key, const std::string& source, bool required) {
  if (!j.contains(key)) {
    if (required) throw DataError(source + ": missing \"" + key + "\"");
    return "";
  }
  if (!j[key].is_string()) throw DataError(source + ": \"" + key + "\" must be a string");
  return j[key].get<std::string>();
}

int get_int(const nlohmann::json& j, const char* key, const std::string& source) {
  if (!j.contains(key)) return 0;
  if (!j[key].is_number_integer() || j[key].get<long long>() < 0 || j[key].get<long long>() > 100000)
    throw DataError(source + ": \"" + key + "\" must be a non-negative integer");
  return j[key].get<int>();
}

}  // namespace

Lesson parse_lesson(const std::string& text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw DataError(source + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw DataError(source + ": a lesson must be a JSON object");
  Lesson lesson;
  lesson.source = source;
  lesson.title = get_string(j, "title", source, false);
  lesson.summary = get_string(j, "summary", source, false);
  lesson.preset = get_string(j, "preset", source, false);
  lesson.prompt = get_string(j, "prompt", source, true);
  lesson.continuation = get_string(j, "continuation", source, false);
  lesson.layer = get_int(j, "layer", source);
  lesson.head = get_int(j, "head", source);
  lesson.window = get_int(j, "window", source);
  if (lesson.title.empty()) lesson.title = lesson.prompt;
  if (j.contains("steps")) {
    if (!j["steps"].is_array()) throw DataError(source + ": \"steps\" must be an array");
    for (const nlohmann::json& s : j["steps"]) {
      if (!s.is_object()) throw DataError(source + ": each entry of \"steps\" must be an object");
      lesson.steps.push_back({get_string(s, "caption", source, false), get_string(s, "note", source, false)});
    }
  }
  return lesson;
}

Lesson load_lesson_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError("lesson file " + path + " cannot be opened");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_lesson(text.str(), path);
}

Lesson default_lesson() { return parse_lesson(embedded::default_lesson, "built-in lesson time_flies_fast.json"); }

}  // namespace kvscope::gui
