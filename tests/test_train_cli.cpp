// kvscope-cli train and the folders it writes: the files load back to the exact trained weights, bad
// arguments and bad data give one-line errors, and the shipped demo model says what the lessons need.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cli_runner.h"
#include "core/train/corpus.h"
#include "core/engine/kernels/error.h"
#include "core/formats/model_folder.h"
#include "core/formats/model_folder_writer.h"
#include "core/engine/session/session.h"
#include "core/train/train.h"
#include "core/tokenizers/word_tokenizer.h"
#include "test_helpers.h"

using namespace kvscope;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& tag)
      : path(fs::temp_directory_path() / ("kvscope_train_" + tag + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

const char* kTinyCorpus =
    "time flies fast .\n"
    "time flies fast when we play .\n"
    "the duck flew at him .\n"
    "the cat saw the duck .\n";

bool same_weights(const ModelWeights& a, const ModelWeights& b) {
  if (a.layers.size() != b.layers.size()) return false;
  for (size_t l = 0; l < a.layers.size(); ++l) {
    const LayerWeights &x = a.layers[l], &y = b.layers[l];
    if (x.attn_qkv != y.attn_qkv || x.attn_qkv_bias != y.attn_qkv_bias || x.attn_proj != y.attn_proj ||
        x.mlp_fc != y.mlp_fc || x.mlp_proj != y.mlp_proj || x.mlp_proj_bias != y.mlp_proj_bias ||
        x.ln_1_gamma != y.ln_1_gamma || x.ln_2_beta != y.ln_2_beta)
      return false;
  }
  return a.token_embedding == b.token_embedding && a.position_embedding == b.position_embedding &&
         a.ln_f_gamma == b.ln_f_gamma && a.ln_f_beta == b.ln_f_beta && b.lm_head.size() == 0;
}

// Greedy continuation of prompt by n tokens, as kvscope-cli generate does it.
std::string greedy(const LoadedModel& loaded, const std::string& prompt, int n) {
  SessionOptions options;
  DecodeSession session(loaded.model, loaded.tokenizer, options);
  session.start(loaded.tokenizer->encode(prompt), {});
  for (int s = 0; s < n; ++s) session.step();
  return loaded.tokenizer->decode(session.tokens());
}

}  // namespace

TEST_CASE("a saved model folder loads back to the same config, weights and words", "[train][cli]") {
  TempDir tmp("save");
  const ModelConfig config = test::small_config(5, 6, 8, 2, 2);
  const ModelWeights weights = test::spiky_model(config, 4)->weights();
  const std::vector<std::string> words = {"Time", "flies", "fast", ".", "duck"};
  save_model_folder((tmp.path / "m").string(), config, weights, words);

  const LoadedModel loaded = load_model_folder((tmp.path / "m").string());
  const ModelConfig& got = loaded.model->config();
  CHECK(got.vocab_size == 5);
  CHECK(got.context_length == 6);
  CHECK(got.d_model == 8);
  CHECK(got.n_head == 2);
  CHECK(got.n_layer == 2);
  CHECK(got.layer_norm_eps == config.layer_norm_eps);
  CHECK(same_weights(loaded.model->weights(), weights));  // F32 and the Conv1D transposes are exact
  CHECK(loaded.tokenizer->encode("Time flies fast . duck") == std::vector<int>{0, 1, 2, 3, 4});

  // Refuses to replace a folder that holds files unless asked, and leaves it as it was.
  CHECK_THROWS_AS(save_model_folder((tmp.path / "m").string(), config, weights, words), UsageError);
  CHECK_THROWS_AS(check_save_target((tmp.path / "m").string(), false), UsageError);
  CHECK_NOTHROW(check_save_target((tmp.path / "m").string(), true));
  CHECK_NOTHROW(check_save_target((tmp.path / "new" / "deeper").string(), false));
  SaveFolderOptions replace;
  replace.replace_existing = true;
  ModelWeights other = weights;
  other.ln_f_beta.setConstant(0.5f);
  save_model_folder((tmp.path / "m").string(), config, other, words, replace);
  CHECK(same_weights(load_model_folder((tmp.path / "m").string()).model->weights(), other));
  // No temporary or moved-aside folder is left beside it.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(tmp.path)) entries += e.path().filename() != "m" ? 100 : 1;
  CHECK(entries == 1);

  CHECK_THROWS_AS(save_model_folder((tmp.path / "w").string(), config, weights, {"a", "b"}), UsageError);
  CHECK_THROWS_AS(save_model_folder((tmp.path / "w").string(), config, weights, {"a", "b", "a", "c", "d"}), UsageError);
  CHECK(!fs::exists(tmp.path / "w"));
}

TEST_CASE("kvscope-cli train writes the weights the trainer computes", "[train][cli]") {
  TempDir tmp("cli");
  write_file(tmp.path / "corpus.txt", kTinyCorpus);
  const std::string out = (tmp.path / "model").string();
  const test::CliResult r = test::run_cli("train --corpus " + (tmp.path / "corpus.txt").string() + " --out " + out +
                                          " --steps 40 --seed 5 --d-model 16 --n-head 2 --n-layer 1 --context 8"
                                          " --log-every 10 --threads 2");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.err.find("step    40/40  loss ") != std::string::npos);  // progress: step, loss, elapsed
  CHECK(r.err.find(" s\n") != std::string::npos);
  CHECK(r.out.find("wrote " + out) != std::string::npos);

  const Corpus corpus = parse_corpus(kTinyCorpus, "tiny");
  ModelConfig config = test::small_config(int(corpus.vocabulary.size()), 8, 16, 2, 1);
  TrainOptions options;
  options.steps = 40;
  options.seed = 5;
  Trainer trainer(config, corpus.sequences, options);
  for (int s = 0; s < options.steps; ++s) trainer.step();

  const LoadedModel loaded = load_model_folder(out);
  CHECK(loaded.model->config().vocab_size == config.vocab_size);
  CHECK(loaded.model->config().context_length == 8);
  CHECK(same_weights(loaded.model->weights(), trainer.weights()));
  const auto& words = dynamic_cast<const WordTokenizer&>(*loaded.tokenizer).words();
  CHECK(words == corpus.vocabulary);
}

TEST_CASE("kvscope-cli train: bad arguments exit 2, bad data exit 1, one line each", "[train][cli]") {
  TempDir tmp("errors");
  write_file(tmp.path / "corpus.txt", kTinyCorpus);
  write_file(tmp.path / "empty.txt", "# nothing but a comment\n\n");
  write_file(tmp.path / "a_file", "x");
  const std::string corpus = " --corpus " + (tmp.path / "corpus.txt").string();
  const std::string out = " --out " + (tmp.path / "m").string();
  struct Case {
    std::string args;
    int status;
    std::string says;
  };
  const Case cases[] = {
      {"train" + out, 2, "--corpus"},
      {"train" + corpus, 2, "--out"},
      {"train" + corpus + out + " --steps 0", 2, "positive integer"},
      {"train" + corpus + out + " --d-model 16 --n-head 3", 2, "n_head (3) must divide d_model (16)"},
      {"train" + corpus + out + " --lr -1", 2, "--lr: must be a positive number, got '-1'"},
      {"train --corpus " + tmp.path.string() + out, 1, "cannot open the corpus file: it is a folder"},
      {"train" + corpus + " --steps 2 --out /", 2, "cannot be a model folder"},
      {"train --corpus " + (tmp.path / "missing.txt").string() + out, 1, "cannot open the corpus"},
      {"train --corpus " + (tmp.path / "empty.txt").string() + out, 1, "no words"},
      {"train" + corpus + " --steps 2 --out " + (tmp.path / "a_file" / "m").string(), 2, "a_file is not a folder"},
      {"train" + corpus + " --steps 2 --out " + (tmp.path / "a_file").string(), 2, "not a folder"},
  };
  for (const Case& c : cases) {
    const test::CliResult r = test::run_cli(c.args);
    INFO(c.args << "\nstderr: " << r.err);
    CHECK(r.status == c.status);
    // The error is the last line of stderr (progress lines may come before it), and says what is wrong.
    const std::string last = r.err.substr(r.err.rfind('\n', r.err.size() - 2) + 1);
    CHECK(last.find(c.says) != std::string::npos);
    CHECK(!fs::exists(tmp.path / "m"));
  }

  // A folder with files is kept unless --overwrite is given, and even then unless it is a model folder.
  fs::create_directories(tmp.path / "keep");
  write_file(tmp.path / "keep" / "notes.txt", "mine");
  const std::string keep = " --steps 2 --out " + (tmp.path / "keep").string();
  CHECK(test::run_cli("train" + corpus + keep).status == 2);
  CHECK(test::run_cli("train" + corpus + keep + " --overwrite").status == 2);
  CHECK(fs::exists(tmp.path / "keep" / "notes.txt"));
  write_file(tmp.path / "keep" / "config.json", "{}");
  CHECK(test::run_cli("train" + corpus + keep).status == 2);
  CHECK(test::run_cli("train" + corpus + keep + " --overwrite").status == 0);
  CHECK(!fs::exists(tmp.path / "keep" / "notes.txt"));
  CHECK(fs::exists(tmp.path / "keep" / "model.safetensors"));
}

TEST_CASE("the shipped demo model continues the lesson prompts and matches its corpus", "[train][demo]") {
  const std::string dir = std::string(KVSCOPE_SOURCE_DIR) + "/examples/models/demo";
  const LoadedModel demo = load_model_folder(dir);
  CHECK(greedy(demo, "Time", 1) == "Time flies");
  CHECK(greedy(demo, "Time", 2) == "Time flies fast");
  CHECK(greedy(demo, "He had to duck when the", 1) == "He had to duck when the duck");

  const ModelConfig& c = demo.model->config();
  CHECK(c.context_length == 32);
  CHECK(c.d_model == 64);
  CHECK(c.n_head == 4);
  CHECK(c.n_layer == 2);
  // Retraining from the corpus gives the same ids: the vocabulary is the corpus's, in order.
  const Corpus corpus = read_corpus(std::string(KVSCOPE_SOURCE_DIR) + "/examples/corpus/demo_corpus.txt");
  CHECK(dynamic_cast<const WordTokenizer&>(*demo.tokenizer).words() == corpus.vocabulary);
  std::uintmax_t bytes = 0;
  for (const auto& e : fs::directory_iterator(dir)) bytes += fs::file_size(e.path());
  CHECK(bytes < 2u * 1024 * 1024);
}
