#pragma once
// Lesson: a classroom scenario from examples/lessons/*.json (no GUI code: the window and kvscope-cli
// both read lessons here). A lesson runs the real model on a prompt and a teacher-forced
// continuation; each step gets a caption written from its trace (core/caption.h), the lines its kind
// computes from the traces (core/lesson_report.h) and the teacher's note written here.
//   {"title": "...", "summary": "...", "kind": "decode", "preset": "demo",
//    "prompt": "Time", "continuation": "flies fast", "layer": 0, "head": 0, "window": 0,
//    "key_step": 2, "steps": [{"note": "...", "caption": "..."}, ...]}
// "prompt_length": N fills the prompt to N tokens from the built-in corpus (core/lessons/prompt_fill.h).
// Kinds and their own fields:
//   decode         the default: rows recomputed versus reused, the cost ledger
//   query          why Q is not cached: the newest output does not depend on older query rows
//   same_word      "word": the word that appears twice (default: the first repeated token)
//   context_limit  "window": a sliding window, compared with a hard stop and with full attention
//   prefix_reuse   "questions": texts appended to the shared prompt; "answer_tokens": greedy tokens each
//   cache_size     steps may carry "calculator": {"shape": "llama-3-8b", "dtype": "bf16", "tokens": 32768}
//   cache_policy   "policy" (below) against full attention, and "compare": other policies run beside it on
//                  the same teacher-forced tokens (divergence and bytes of each, step by step)
//   batch          many sequences in one paged cache, a step per round: sequence i is "prompt" +
//                  "questions"[i] (or the prompt alone), each decoding "answer_tokens" greedily, in blocks
//                  of "block_size" positions; "actions" change them between rounds:
//                  {"round": 2, "do": "fork", "sequence": 0, "temperature": 1.0, "seed": 7}
//                  {"round": 3, "do": "truncate", "sequence": 1, "tokens": 9}   (rollback)
//                  {"round": 3, "do": "edit", "sequence": 1, "position": 4, "text": " cache"}
//                  {"round": 1, "do": "join", "text": "..."}; the panes follow sequence 0's own run
//   speculative    a "draft" model (a built-in name, sharing the lesson model's tokenizer) guesses
//                  "draft_tokens" ahead, the lesson's model checks them in one pass; "answer_tokens" new
//                  tokens, greedy. Step 0 is the prefill, then one step per round
//   precision      the lesson's model computing in "numerics" ("bf16", "f16", "f32", each optionally
//                  ",same-order"), and "compare": other numerics run beside it on the same tokens; every
//                  step measures cached against uncached in each
//   memory_wall    one sequence ("prompt" filled from the corpus) grown to each of "lengths" in turn, a
//                  step each: the time a token takes and the bytes the cache holds, measured with the
//                  plain cache and each "compare" cache (core/lessons/wall_cache.h: "window:512", "bits:8",
//                  "bf16", "kv_heads:1", "latent:64"), "timed_tokens" decode steps timed at each length
// Any kind may set "policy": a cache policy spec for the cached mode ("sinks:4,window:12", "bits:8").
// All built-in lessons are compiled into the binary (core/CMakeLists.txt).
#include <cstdint>
#include <string>
#include <vector>

#include "core/engine/kernels/embedded_file.h"

namespace kvscope {

enum class LessonKind { Decode, Query, SameWord, ContextLimit, PrefixReuse, CacheSize, CachePolicy, Batch, Speculative, Precision,
                        MemoryWall };
constexpr LessonKind kLessonKinds[] = {LessonKind::Decode,       LessonKind::Query,       LessonKind::SameWord,
                                       LessonKind::ContextLimit, LessonKind::PrefixReuse, LessonKind::CacheSize,
                                       LessonKind::CachePolicy,  LessonKind::Batch,       LessonKind::Speculative,
                                       LessonKind::Precision,    LessonKind::MemoryWall};
const char* lesson_kind_name(LessonKind kind);  // "decode", "query", ...

// batch lessons: a change to the sequences before a round runs.
enum class BatchActionKind { Join, Fork, Truncate, Edit };
const char* batch_action_name(BatchActionKind kind);  // "join", "fork", "truncate", "edit"
struct BatchAction {
  int round = 0;
  BatchActionKind kind = BatchActionKind::Fork;
  int sequence = 0;          // fork, truncate, edit
  int tokens = 0;            // truncate: tokens kept
  int position = 0;          // edit
  std::string text;          // join: the whole prompt; edit: the new token's text (one token)
  float temperature = 0.0f;  // fork: the branch's sampling (0: greedy)
  int seed = 0;
};

// What the cache-size calculator shows at a step.
struct CalculatorSetting {
  bool set = false;
  std::string shape = "loaded";  // "loaded" or a name from known_cache_shapes()
  std::string dtype = "fp32";
  std::int64_t tokens = 0;       // 0: the positions the loaded model holds at this step
};

// What the window shows under the panes (one at a time): the heatmaps, or a lesson view. A lesson step
// may choose one by name ("view"), and so may the window's --view and View menu.
enum class LessonView { Heatmaps, Calculator, Rotation, Heads, Quantized, Speculation, MemoryWall };
const char* lesson_view_name(LessonView view);                 // "heatmaps", "calculator", ...
bool parse_lesson_view(const std::string& name, LessonView* out);
const std::vector<LessonView>& lesson_views();                  // all, in order
std::string lesson_view_names();                                // "heatmaps, calculator, ..., memory_wall"

struct LessonStep {
  std::string caption;  // the teacher's framing, shown after the caption written from the trace
  std::string note;     // the teacher's note for this step
  CalculatorSetting calculator;
  bool sets_view = false;  // the step chooses the view under the panes (a calculator setting chooses the calculator)
  LessonView view = LessonView::Heatmaps;
};

struct Lesson {
  std::string name;          // file stem or built-in name: "why_not_cache_q"
  std::string title;
  std::string summary;
  std::string preset;        // model the lesson was written for ("" = any)
  LessonKind kind = LessonKind::Decode;
  std::string prompt;        // text, or token ids ("464 3862") for a model without a vocabulary
  std::string continuation;  // teacher-forced; empty = the model's own choices
  int prompt_length = 0;     // the prompt filled to this many tokens from the built-in corpus (0: as written)
  int layer = 0, head = 0, window = 0;
  int key_step = -1;         // the step worth a slide; -1 = the last
  std::string word;                    // same_word
  std::vector<std::string> questions;  // prefix_reuse, batch
  int answer_tokens = 3;               // prefix_reuse, batch
  int block_size = 4;                  // batch
  std::vector<BatchAction> actions;    // batch, in round order
  std::string policy;                  // cache policy spec for the cached mode ("" = the plain cache)
  std::vector<std::string> compare;    // cache_policy: more policy specs; precision: more numerics specs;
                                       // memory_wall: caches measured beside the plain one
  std::vector<int> lengths;            // memory_wall: positions at each step, ascending
  int timed_tokens = 8;                // memory_wall: decode steps timed at each length
  std::string draft = "demo-llama-draft";  // speculative
  int draft_tokens = 4;                     // speculative: k
  std::string numerics = "f32";             // precision: the lesson's own run
  std::vector<LessonStep> steps;
  std::string source;        // file path, or "built-in lesson NAME"
};

// Throws DataError "SOURCE: problem" (one line) for malformed JSON, a missing or mistyped field, an
// unknown field or kind, or a value out of range.
Lesson parse_lesson(const std::string& json_text, const std::string& source);
Lesson load_lesson_file(const std::string& path);

// examples/lessons/*.json compiled in (core/lessons/CMakeLists.txt), named by file stem, in the
// Lessons menu's order.
const std::vector<EmbeddedFile>& embedded_builtin_lessons();
std::vector<Lesson> builtin_lessons();
Lesson builtin_lesson(const std::string& name);  // throws UsageError for an unknown name
Lesson default_lesson();                         // time_flies_fast
// The built-in lessons' names in the Lessons menu's order, joined by ", " (for --help).
std::string builtin_lesson_names();
// A lesson file, or a built-in lesson's name ("why_not_cache_q" or "why_not_cache_q.json") when no
// such file exists. Throws DataError naming the path.
Lesson load_lesson(const std::string& path_or_name);

}  // namespace kvscope
