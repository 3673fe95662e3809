// What a quantized cache says it stores (PolicyTrace::stored, the window's quantized-rows view), held
// against the format's own definition: codes within 2^bits levels, reads equal zero + code x scale from
// the recorded pairs, every value within half a scale of what was written, the rows as written equal the
// model's K and V rows in the trace, and a key still filling its group equal to its fp16 rounding.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/lessons/lesson_run.h"
#include "lesson_helpers.h"

using namespace kvscope;

namespace {

// The K (or V) row of `position` in a layer, as the cached mode computed it (the step that fed it).
const float* written_row(const std::vector<StepTrace>& history, int layer, int position, bool value) {
  for (const StepTrace& s : history) {
    const ForwardRecord& f = s.cached.forward;
    if (position < f.query_begin || position >= f.key_end || f.layers.empty()) continue;
    const LayerRecord& l = f.layers[std::size_t(layer)];
    return (value ? l.values : l.keys).row(position - f.query_begin).data();
  }
  return nullptr;
}

}  // namespace

TEST_CASE("a quantized cache's stored rows: codes, pairs and reads as the format defines them", "[policy][llama]") {
  const LoadedModel model = load_preset("demo-llama");
  for (const char* spec : {"bits:8", "bits:4"}) {
    INFO(spec);
    Lesson lesson = builtin_lesson("smaller_numbers");
    lesson.policy = spec;
    lesson.compare.clear();
    const LessonRun run = test::run_lesson_to_end(lesson, model);
    const int bits = spec[5] - '0', levels = 1 << bits, d = model.model->config().d_head();
    int coded_keys = 0, fp16_keys = 0;
    for (int step = 0; step < run.steps_done(); ++step) {
      const PolicyTrace& p = run.history()[std::size_t(step)].cached.policy;
      REQUIRE(p.stored.size() == std::size_t(2 * model.model->config().n_layer * model.model->config().kv_heads()));
      for (const PolicyTrace::StoredSample& s : p.stored) {
        INFO("step " << step << " layer " << s.layer << " KV head " << s.kv_head << " position " << s.position);
        const StoredRow& r = s.row;
        CHECK(r.bits == bits);
        const float* k = written_row(run.history(), s.layer, s.position, false);
        const float* v = written_row(run.history(), s.layer, s.position, true);
        REQUIRE(k);
        REQUIRE(v);
        REQUIRE(int(r.value_codes.size()) == d);
        for (int i = 0; i < d; ++i) {
          const int c = s.kv_head * d + i;
          CHECK(r.key_written[std::size_t(i)] == k[c]);
          CHECK(r.value_written[std::size_t(i)] == v[c]);
          const int vc = r.value_codes[std::size_t(i)];
          CHECK(vc >= 0);
          CHECK(vc < levels);
          CHECK(r.value_read[std::size_t(i)] == Approx(r.value_zero + float(vc) * r.value_scale).margin(1e-6));
          CHECK(std::abs(r.value_read[std::size_t(i)] - v[c]) <= r.value_scale * 0.5f + 1e-5f);
          if (r.key_coded) {
            const int kc = r.key_codes[std::size_t(i)];
            CHECK(kc >= 0);
            CHECK(kc < levels);
            CHECK(r.key_read[std::size_t(i)] == Approx(r.key_zeros[std::size_t(i)] + float(kc) * r.key_scales[std::size_t(i)]).margin(1e-6));
            // The key was coded from its fp16 copy: within half a scale plus fp16's rounding of it.
            CHECK(std::abs(r.key_read[std::size_t(i)] - k[c]) <=
                  r.key_scales[std::size_t(i)] * 0.5f + std::abs(k[c]) * 1e-3f + 1e-5f);
          } else {
            CHECK(r.key_codes.empty());
            CHECK(std::abs(r.key_read[std::size_t(i)] - k[c]) <= std::abs(k[c]) / 1024.0f + 1e-7f);  // fp16: 11 bits
          }
        }
        CHECK(r.key_group_first == s.position / 32 * 32);
        (r.key_coded ? coded_keys : fp16_keys) += 1;
        // A key is coded exactly when its group of 32 has been filled by this step.
        CHECK(r.key_coded == (r.key_group_last < run.history()[std::size_t(step)].position_end));
      }
    }
    CHECK(coded_keys > 0);
    CHECK(fp16_keys > 0);
  }
}
