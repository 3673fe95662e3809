#pragma once
// LessonReport: what a lesson adds to one step — lines of text computed from the traces (the same in
// the window, in kvscope-cli and in exports), the numbers behind them for JSON, and the structured
// checks the window draws (the two "duck" rows, the calculator).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/lessons/batch_script.h"
#include "core/lessons/cache_calculator.h"
#include "core/lessons/figure.h"
#include "core/lessons/lesson.h"
#include "core/lessons/lesson_checks.h"
#include "core/lessons/memory_wall.h"
#include "core/formats/model_source.h"
#include "core/lessons/prefix_reuse.h"
#include "core/lessons/speculative_script.h"
#include "core/engine/session/trace.h"

namespace kvscope {

struct CalculatorReport {
  bool set = false;
  CacheShape shape;
  KvDtype dtype = KvDtype::FP32;
  std::int64_t tokens = 0;
  std::vector<AttentionVariant> variants;
  std::vector<std::int64_t> bytes;  // per variant
};

// The loaded model's cache as the calculator predicts it and as the engine reports it.
struct EngineBytes {
  bool set = false;
  int positions = 0;
  std::int64_t calculator = 0, engine = 0;
};

struct LessonReport {
  std::vector<std::string> lines;    // the step's claims, in words and numbers
  std::vector<std::string> details;  // the numbers behind them (the window draws these as a view instead)
  nlohmann::json numbers = nlohmann::json::object();
  std::vector<QueryRowCheck> query;
  SameWordCheck same_word;
  bool has_context = false;
  ContextCheck context;
  EngineBytes engine;
  CalculatorReport calculator;
  // memory_wall: every cache's measurements up to this step (a copy: the window draws it while the next
  // length is measured on the worker thread).
  std::vector<WallSeries> wall;
  FigureLog figures;  // every number in lines and details, declared as it was written
};

// What a report reads besides the traces.
struct LessonInputs {
  const Lesson& lesson;
  const LoadedModel& model;
  const std::vector<int>& prompt_ids;
  const std::vector<int>& forced_ids;
  const PrefixScript* prefix = nullptr;  // prefix_reuse lessons
  std::vector<const std::vector<StepTrace>*> compared = {};  // cache_policy lessons: the "compare" runs
  const BatchScript* batch = nullptr;                         // batch lessons
  const SpeculativeScript* speculative = nullptr;             // speculative lessons
  const MemoryWall* wall = nullptr;                           // memory_wall lessons
};

LessonReport make_report(const LessonInputs& in, const std::vector<StepTrace>& history, int step);

// memory_wall lessons (core/lessons/memory_wall_report.cpp): the length of `step` measured, every cache.
void report_memory_wall(const MemoryWall& wall, int step, LessonReport& r);

// The calculator for a shape at some tokens in some dtype, every attention variant.
CalculatorReport calculate(const CacheShape& shape, std::int64_t tokens, KvDtype dtype);

}  // namespace kvscope
