#include "core/formats/trace_json.h"

#include <algorithm>

namespace kvscope {

namespace {
nlohmann::json matrix_rows(const Matrix& m) {
  nlohmann::json rows = nlohmann::json::array();
  for (Eigen::Index r = 0; r < m.rows(); ++r) rows.push_back(std::vector<float>(m.row(r).data(), m.row(r).data() + m.cols()));
  return rows;
}

nlohmann::json layer_to_json(const LayerRecord& l, const TraceJsonOptions& options) {
  nlohmann::json j;
  j["window"] = l.window;  // 0: a global layer without a model-wide window
  j["computed_rows"] = l.computed_rows;
  j["reused_rows"] = l.reused_rows;
  j["evicted_rows"] = l.evicted_rows;
  j["held_rows"] = l.held_rows;
  j["keys_read"] = l.keys_read;
  if (!l.rebuilt_rows.empty()) j["rebuilt_rows"] = l.rebuilt_rows;  // MLA: K/V rebuilt from latent rows
  j["macs"] = {{"qkv", l.macs.qkv},
               {"rebuild", l.macs.rebuild},
               {"scores", l.macs.scores},
               {"weighted_values", l.macs.weighted_values},
               {"out_proj", l.macs.out_proj},
               {"mlp", l.macs.mlp},
               {"total", l.macs.total()}};
  if (options.attention) {
    nlohmann::json heads = nlohmann::json::array();
    for (const Matrix& a : l.attention) heads.push_back(matrix_rows(a));
    j["attention"] = heads;
  }
  return j;
}
// [layer] -> positions: the union over KV heads (they agree unless heavy hitters differ).
nlohmann::json per_layer(const std::vector<std::vector<std::vector<int>>>& lists, int n_layer) {
  nlohmann::json out = nlohmann::json::array();
  for (int l = 0; l < n_layer; ++l) {
    const std::vector<std::vector<int>>& heads = lists[std::size_t(lists.size() == 1 ? 0 : l)];
    std::vector<int> all;
    for (const std::vector<int>& h : heads) all.insert(all.end(), h.begin(), h.end());
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    out.push_back(all);
  }
  return out;
}
}  // namespace

nlohmann::json policy_to_json(const PolicyTrace& p, int n_layer) {
  nlohmann::json j;
  j["spec"] = p.spec;
  j["kept_positions"] = per_layer(p.kept, n_layer);
  j["evicted_positions"] = per_layer(p.evicted, n_layer);
  if (p.per_head) {  // [layer][KV head]: the kept sets differ by layer or head
    j["kept_positions_by_kv_head"] = p.kept;
    j["evicted_positions_by_kv_head"] = p.evicted;
  }
  // Per layer (KV head 0): {reason: positions}, e.g. {"sink": [0, 1], "recent": [6, 7, 8]}.
  nlohmann::json reasons = nlohmann::json::array();
  for (int l = 0; l < n_layer; ++l) {
    nlohmann::json by = nlohmann::json::object();
    for (const auto& [why, positions] : p.kept_by_reason(p.per_head ? l : 0, 0)) by[why] = positions;
    reasons.push_back(by);
  }
  j["kept_reasons"] = reasons;
  j["max_rows"] = p.max_rows;
  j["key_positions"] = p.original_positions ? "original" : "renumbered";
  j["cache_bytes"] = p.cache_bytes;
  j["full_cache_bytes"] = p.full_cache_bytes;
  j["kl_from_full"] = p.kl_from_full;
  j["max_abs_prob_diff"] = p.max_abs_prob_diff;
  j["top1_agrees"] = p.top1_agrees;
  j["full_top1"] = p.full_top1;
  j["policy_top1"] = p.policy_top1;
  j["max_abs_k_error"] = p.max_abs_k_error;
  j["max_abs_v_error"] = p.max_abs_v_error;
  return j;
}

nlohmann::json mode_to_json(const ModeTrace& mode, const TraceJsonOptions& options) {
  nlohmann::json j;
  j["layers"] = nlohmann::json::array();
  for (const LayerRecord& l : mode.forward.layers) j["layers"].push_back(layer_to_json(l, options));
  j["macs"] = mode.macs();
  j["output_head_macs"] = mode.forward.output_head_macs;
  j["rows_computed"] = mode.rows_computed();
  j["total_rows_computed"] = mode.total_rows_computed;
  j["total_macs"] = mode.total_macs;
  j["seconds"] = mode.seconds;
  j["cache_bytes"] = mode.cache_bytes;
  j["cache_bytes_allocated"] = mode.cache_bytes_allocated;
  if (mode.policy.active) j["policy"] = policy_to_json(mode.policy, int(mode.forward.layers.size()));
  if (!mode.rolled_back.empty()) j["rolled_back"] = mode.rolled_back;
  return j;
}

nlohmann::json step_to_json(const StepTrace& t, const TraceJsonOptions& options) {
  nlohmann::json j;
  j["step"] = t.step;
  j["phase"] = t.prefill ? "prefill" : "decode";
  j["position"] = t.newest_position();
  j["positions"] = {t.position_begin, t.position_end};
  j["input_ids"] = t.input_ids;
  j["next_id"] = t.next_id;
  j["next_text"] = t.next_text;
  j["forced"] = t.forced;
  j["window"] = t.window;
  nlohmann::json top = nlohmann::json::array();
  for (const TokenProbability& p : t.top) top.push_back({{"id", p.id}, {"text", p.text}, {"probability", p.probability}});
  j["top"] = top;
  if (t.cached.ran) j["cached"] = mode_to_json(t.cached, options);
  if (t.uncached.ran) j["uncached"] = mode_to_json(t.uncached, options);
  if (t.both_ran()) {
    j["max_abs_logit_diff"] = t.max_abs_logit_diff;
    j["top1_agrees"] = t.top1_agrees;
  }
  if (options.logits) {
    const RowVector& logits = t.cached.ran ? t.cached.logits : t.uncached.logits;
    j["logits"] = std::vector<float>(logits.data(), logits.data() + logits.size());
  }
  return j;
}

nlohmann::json speculative_round_to_json(const SpeculativeRound& r, const Tokenizer& tokenizer) {
  nlohmann::json texts = nlohmann::json::array();
  for (int id : r.drafted) texts.push_back(tokenizer.token_text(id));
  return {{"position", r.first_position},
          {"pending", r.pending},
          {"drafted", r.drafted},
          {"drafted_text", texts},
          {"draft_probability", r.draft_probability},
          {"target_probability", r.target_probability},
          {"target_argmax", r.target_argmax},
          {"accepted", r.accepted},
          {"next_id", r.next_id},
          {"next_text", tokenizer.token_text(r.next_id)},
          {"corrected", r.corrected},
          {"target_rows_written", r.target_rows_written},
          {"target_rows_rolled_back", r.target_rows_rolled_back},
          {"draft_rows_written", r.draft_rows_written},
          {"draft_rows_rolled_back", r.draft_rows_rolled_back},
          {"draft_passes", r.draft_passes},
          {"target_passes", 1}};
}

}  // namespace kvscope
