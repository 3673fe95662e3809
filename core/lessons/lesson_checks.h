#pragma once
// The numbers the lessons prove, computed from StepTraces (and the model's weights where a lesson
// looks at embeddings). No drawing here: the window and kvscope-cli both print these.
#include <string>
#include <vector>

#include "core/formats/model_source.h"
#include "core/engine/session/trace.h"

namespace kvscope {

// ---- Why not cache Q? ------------------------------------------------------------------------------

// Attention outputs [n_query, d_model] (heads side by side) of layer `layer`'s query rows at positions
// query_begin, query_begin + 1, ... against the K/V rows of positions 0..keys.rows()-1 under the causal
// mask and the layer's window (its own, bounded by model_window). Each row is computed on its own, in
// the model's order and with the model's own numbers: q·k x score_scale(), the attention softcap,
// softmax, sum of V. weights (optional): the newest row's attention weights, [n_head, keys.rows()].
Matrix attention_outputs(const ModelConfig& config, int layer, int model_window, const Matrix& queries,
                         const Matrix& keys, const Matrix& values, int query_begin, Matrix* newest_weights = nullptr);

struct QueryRowCheck {
  int layer = 0;
  int n_query_rows = 0;              // query rows the uncached pass computed (every position)
  // Exact claims: the newest output from all Q rows equals the one from the newest Q row alone, and
  // replacing every older Q row with random numbers leaves it bitwise unchanged.
  float full_vs_single = -1.0f;      // max |Δ|, expected exactly 0
  float older_rows_perturbed = -1.0f;  // max |Δ| of the newest output, expected exactly 0
  float older_outputs_moved = 0.0f;  // how far the perturbed older rows' own outputs moved (> 0)
  // Fidelity: the recomputed newest attention weights against those the model recorded.
  float recomputed_vs_model = -1.0f;
  // Rounding only: the cached path (one query row, K/V read back) against the uncached path.
  float cached_vs_uncached_output = -1.0f;
  float cached_vs_uncached_weights = -1.0f;
};

// Per layer, from history[step] (both modes with rows and attention recorded) and the cached rows of
// earlier steps. Empty when the step lacks what the check needs.
std::vector<QueryRowCheck> check_query_rows(const std::vector<StepTrace>& history, int step, const ModelConfig& config);

// ---- Same word, two positions -----------------------------------------------------------------------

struct RowPairCheck {
  int layer = 0;
  float key_cosine = 0, key_max_diff = 0;
  float value_cosine = 0, value_max_diff = 0;
  RowVector key_first, key_second, value_first, value_second;  // [d_model] the rows compared
};

struct SameWordCheck {
  bool found = false;
  std::string word;  // token text
  int token_id = -1;
  int first = -1, second = -1;  // positions
  std::vector<RowPairCheck> layers;
  // Layer 0's inputs are wte[id] + wpe[p]: the token rows are the same row, so the inputs differ by
  // exactly wpe[first] - wpe[second]. Exactly in double (sums of two floats are exact there); the
  // float32 forward pass rounds each sum once.
  double input_vs_position_exact = -1.0;  // max |(x1 - x2) - (wpe1 - wpe2)| in double: 0
  float input_vs_position_float = -1.0f;  // the same with the float32 inputs the model used
  float position_diff_max = 0.0f;         // max |wpe[first] - wpe[second]|
  RowVector input_diff, position_diff;    // [d_model] x_first - x_second (float32) and wpe[first] - wpe[second]
  // Rotary positions instead (no wpe): layer 0's K rows before rotation are the same vector, and after
  // it the second is the first turned by second - first positions.
  bool rotary = false;
  float unrotated_max_diff = -1.0f;  // max |k_first - k_second| before rotation: 0 up to rounding
  float rotated_max_diff = 0.0f;     // the same after rotation: what the cache holds differs
  float rotation_residual = -1.0f;   // max |rotate(k_first, second - first) - k_second|: float rounding
  RowVector key_unrotated_first, key_unrotated_second;  // [kv_dim] layer 0's two K rows before rotation
  // Relative positions, measured on the recorded rows of layer 0, query head 0 and its KV head: the
  // same input at `first` and at `second`, so q@first·k@first and q@second·k@second (both distance 0,
  // shifted by second - first) are equal up to rounding; q@second·k@first, at distance second - first, is not.
  // Scores are q·k/√d_head, the attention logits.
  bool relative_checked = false;
  double score_first = 0.0, score_second = 0.0, score_across = 0.0;
};

// word: the token text to look for ("" = the first token that appears twice). Rows come from the
// cached traces of history[0..step].
SameWordCheck check_same_word(const Model& model, const std::vector<StepTrace>& history, int step,
                              const std::string& word);

// ---- The context limit ------------------------------------------------------------------------------

struct ContextCheck {
  int window = 0;
  int context_length = 0;
  int positions = 0;              // position_end of the step
  int first_held = 0;             // oldest position the windowed cache still holds
  std::vector<int> evicted;       // evicted by this step
  float cached_vs_uncached = 0;   // windowed cached vs windowed uncached, max |Δlogit|
  bool full_fits = false;         // full attention over every position still fits the context
  double kl_full_windowed = 0;    // KL(p_full || p_window) in nats, when full_fits
  double max_prob_diff = 0;       // max |p_full - p_window|
  int full_top = -1, window_top = -1;
  std::string hard_stop;          // the session's refusal of the next step ("" when it fits)
  bool rotary = false;            // rotary positions: past the context with a window, full attention still runs
};

// prompt/forced: what the lesson's session was started with (a hard-stop session starts the same way).
ContextCheck check_context(const LoadedModel& model, const std::vector<int>& prompt, const std::vector<int>& forced,
                           const std::vector<StepTrace>& history, int step);

// K or V rows of positions 0..n-1 of a layer, as the cache holds them: from the cached traces of
// history[0..step] that computed them. Returns false if a row was not recorded (or was evicted).
bool cached_rows(const std::vector<StepTrace>& history, int step, int layer, bool values, int n, Matrix& out);

}  // namespace kvscope
