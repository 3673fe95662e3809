// The GQA view's numbers (core/lessons/query_group.h): the weights each query head of a group gave the
// shared K/V rows, recomputed here from the recorded rotated Q and cached K rows by a softmax written
// in the test, and the rows read against the cache's own held rows.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/lessons/query_group.h"
#include "lesson_helpers.h"

using namespace kvscope;

TEST_CASE("query group reads: the heads of one KV head weight the same cached rows differently", "[lesson_checks][llama]") {
  const LoadedModel model = load_preset("demo-llama");
  const LessonRun run = test::run_lesson_to_end("fewer_kv_heads", model);
  const ModelConfig& config = model.model->config();
  const int d = config.d_head();
  REQUIRE(config.kv_heads() < config.n_head);
  for (int step = 0; step < run.steps_done(); ++step)
    for (int layer = 0; layer < config.n_layer; ++layer)
      for (int g = 0; g < config.kv_heads(); ++g) {
        INFO("step " << step << " layer " << layer << " KV head " << g);
        const StepTrace& t = run.history()[std::size_t(step)];
        const QueryGroupReads r = query_group_reads(t, layer, g);
        REQUIRE(r.available);
        // Full cache: the newest query reads every position held.
        CHECK(r.positions == t.cached.forward.layers[std::size_t(layer)].held_rows);
        REQUIRE(int(r.heads.size()) == config.n_head / config.kv_heads());
        // Each cached K row, from the step that computed it (rows as cached: rotated).
        std::vector<Eigen::VectorXd> keys;
        for (int p : r.positions) {
          bool found = false;
          for (const StepTrace& s : run.history()) {
            const ForwardRecord& f = s.cached.forward;
            if (p < f.query_begin || p >= f.key_end) continue;
            keys.push_back(f.layers[std::size_t(layer)].keys.row(p - f.query_begin).segment(g * d, d).cast<double>().transpose());
            found = true;
          }
          REQUIRE(found);
        }
        double gap = 0.0;
        std::vector<std::vector<double>> expected;
        for (const QueryHeadReads& h : r.heads) {
          CHECK(config.kv_head_of(h.head) == g);
          const Eigen::VectorXd q = t.cached.forward.layers[std::size_t(layer)].query.segment(h.head * d, d).cast<double>().transpose();
          std::vector<double> scores;
          double top = -1e300, sum = 0.0;
          for (const Eigen::VectorXd& k : keys) top = std::max(top, scores.emplace_back(q.dot(k) / std::sqrt(double(d))));
          for (double& s : scores) sum += (s = std::exp(s - top));
          for (std::size_t i = 0; i < scores.size(); ++i) CHECK(h.weights[i] == Approx(scores[i] / sum).margin(1e-5));
          CHECK(h.weight_sum == Approx(1.0).margin(1e-5));
          expected.push_back(scores);
        }
        for (std::size_t i = 0; i < r.positions.size(); ++i)
          gap = std::max(gap, std::abs(double(r.heads[0].weights[i]) - double(r.heads[1].weights[i])));
        CHECK(r.max_weight_gap >= gap);
        if (r.positions.size() > 1) CHECK(r.max_weight_gap > 1e-3);  // two heads, one set of rows, read differently
      }
}
