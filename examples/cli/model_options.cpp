#include "examples/cli/model_options.h"

#include <cerrno>
#include <cstdlib>

#include "core/engine/kernels/error.h"
#include "core/formats/model_folder.h"

namespace kvscope::cli {

void ModelOptions::add_to(CLI::App& command) {
  auto* preset_option =
      command.add_option("--preset", preset, "built-in model: " + presets_help());
  command.add_option("--model", model_dir, "Hugging Face GPT-2 folder: config.json, model.safetensors, vocab.json, merges.txt")
      ->excludes(preset_option);
  command.add_option("--compute-dtype", compute_dtype,
                     "round every operation's output to " + compute_dtype_names() +
                         " (float32 sums inside each product), both modes alike; default f32");
  command.add_flag("--same-order", same_order,
                   "every matrix product row by row through the decode kernel, so the uncached pass sums in the "
                   "cached pass's order");
}

LoadedModel ModelOptions::load() const {
  Numerics numerics;
  if (!parse_compute_dtype(compute_dtype, &numerics.compute))
    throw UsageError("--compute-dtype must be one of " + compute_dtype_names() + ", got '" + compute_dtype + "'");
  numerics.same_order = same_order;
  LoadedModel loaded = model_dir.empty() ? load_preset(preset) : load_model_folder(model_dir);
  loaded.model = with_numerics(loaded.model, numerics);
  return loaded;
}

CLI::Validator positive_integer() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        char* end = nullptr;
        errno = 0;
        const long n = std::strtol(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0' || errno == ERANGE || n < 1 || n > 1000000000L)
          return "must be a positive integer, got '" + value + "'";
        return "";
      },
      "POSITIVE");
}

std::vector<int> parse_ids(const std::string& text, const std::string& option_name) {
  std::vector<int> ids;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ',' || text[i] == ' ') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && text[j] != ',' && text[j] != ' ') ++j;
    const std::string piece = text.substr(i, j - i);
    char* end = nullptr;
    errno = 0;
    const long value = std::strtol(piece.c_str(), &end, 10);
    if (end != piece.c_str() + piece.size() || errno == ERANGE || value < 0 || value > 2147483647L)
      throw UsageError(option_name + ": '" + piece + "' is not a token id (a non-negative integer)");
    ids.push_back(int(value));
    i = j;
  }
  if (ids.empty()) throw UsageError(option_name + ": no token ids given");
  return ids;
}

}  // namespace kvscope::cli
