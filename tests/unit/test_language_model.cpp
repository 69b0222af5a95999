// Character-level language modelling: the text data source (vocabulary, sequence cut,
// held-out tail, bad files), vocabulary sizes resolved from the data, the language_model
// task's loss normalization over B * T positions, and the text sampler.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>

#include "ckpt/model_spec.h"
#include "comm/self_communicator.h"
#include "core/errors.h"
#include "data/data_source.h"
#include "data/text_dataset.h"
#include "eval/text_sampler.h"
#include "nn/language_model_spec.h"
#include "nn/model_config.h"
#include "train/task.h"

namespace dtrain {
namespace {

namespace fs = std::filesystem;

std::string write_text(const std::string& name, const std::string& text) {
  const auto dir = fs::temp_directory_path() / ("dtrain_lm_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto path = (dir / name).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::vector<float> ids(const data::Dataset& d) {
  return d.values;
}

TEST(TextData, VocabularyIsTheSortedDistinctBytes) {
  EXPECT_EQ(data::text_vocabulary("banana\n"), "\nabn");
  EXPECT_EQ(data::text_vocabulary(std::string("\xff\x00z", 3)), std::string("\x00z\xff", 3));
}

TEST(TextData, CutsNonOverlappingSequencesAndHoldsOutTheTail) {
  // 46 bytes, T = 3: 11 sequences of 4 (2 bytes of ragged tail dropped); held out
  // max(1, 11/20) = 1 each: 9 train, 1 val, 1 test, in file order.
  std::string text;
  for (int i = 0; i < 46; ++i) text.push_back(static_cast<char>('a' + i % 5));
  const auto splits =
      data::load_data_splits({.path = "text:" + write_text("abc.txt", text), .seq_len = 3});
  EXPECT_EQ(splits.vocabulary, "abcde");
  EXPECT_EQ(splits.train.size(), 9u);
  EXPECT_EQ(splits.val.size(), 1u);
  EXPECT_EQ(splits.test.size(), 1u);
  EXPECT_EQ(splits.train.height, 4);
  EXPECT_EQ(splits.train.width, 1);
  EXPECT_EQ(splits.train.channels, 1);
  EXPECT_TRUE(splits.train.labels.empty());
  EXPECT_EQ(ids(splits.train)[0], 0.0f);                          // 'a'
  EXPECT_EQ(ids(splits.train)[5], 0.0f);                          // byte 5 = 'a'
  EXPECT_EQ(ids(splits.train)[7], 2.0f);                          // byte 7 = 'c'
  EXPECT_EQ(ids(splits.val), (std::vector<float>{1, 2, 3, 4}));   // bytes 36..39
  EXPECT_EQ(ids(splits.test), (std::vector<float>{0, 1, 2, 3}));  // bytes 40..43
}

TEST(TextData, HeldOutTailIsFivePercentEach) {
  const auto splits = data::load_data_splits(
      {.path = "text:" + write_text("big.txt", std::string(4000, 'x') + std::string(40, 'y')),
       .seq_len = 9});
  // 404 sequences of 10: 20 test, 20 val, 364 train.
  EXPECT_EQ(splits.test.size(), 20u);
  EXPECT_EQ(splits.val.size(), 20u);
  EXPECT_EQ(splits.train.size(), 364u);
  EXPECT_EQ(splits.vocabulary, "xy");
  EXPECT_EQ(ids(splits.test).back(), 1.0f);
}

void expect_data_error(const std::string& path, int seq_len, const std::string& needle) {
  try {
    data::load_text_data(path, seq_len);
    FAIL() << "expected DataError for " << path;
  } catch (const DataError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find(needle), std::string::npos) << what;
    EXPECT_EQ(e.exit_code(), kExitBadInput);
  }
}

TEST(TextData, BadFilesNameTheFileAndWhatWasExpected) {
  expect_data_error("/nonexistent/corpus.txt", 10, "cannot open");
  expect_data_error(write_text("empty.txt", ""), 10, "empty");
  // 2 sequences of 11 are not enough: training, validation and test need 3.
  expect_data_error(write_text("short.txt", std::string(32, 'q')), 10, "at least 33 bytes");
  EXPECT_NO_THROW(data::load_text_data(write_text("enough.txt", std::string(33, 'q')), 10));
  EXPECT_THROW(data::load_text_data(write_text("any.txt", "abc"), 0), ConfigError);
}

nn::ModelConfig tiny_spec(int steps = 5) {
  nn::ModelConfig c{"tinylm", steps, 1, 1, {}};
  c.task = nn::kTaskLanguageModel;
  c.layers = {{.type = "embedding", .units = 3, .vocab = 0},
              {.type = "lstm", .units = 6, .return_sequences = true},
              {.type = "dense", .units = 0, .per_step = true}};
  return c;
}

TEST(LanguageModelSpec, ZeroSizesComeFromTheDataAndExplicitOnesMustFit) {
  auto c = tiny_spec();
  EXPECT_THROW(nn::build_networks(c), ModelError);  // unresolved: needs --data text:FILE
  nn::resolve_vocabulary(c, "abcd");
  EXPECT_EQ(c.layers[0].vocab, 4);
  EXPECT_EQ(c.layers[2].units, 4);
  EXPECT_EQ(c.vocabulary, "abcd");
  const auto networks = nn::build_networks(c);
  EXPECT_EQ(networks[0].model->output_shape(), (tensor::Shape{5, 4}));

  auto small = tiny_spec();
  small.layers[0].vocab = 3;
  EXPECT_THROW(nn::resolve_vocabulary(small, "abcd"), ModelError);
  auto larger = tiny_spec();
  larger.layers[0].vocab = 8;
  larger.layers[2].units = 8;
  EXPECT_NO_THROW(nn::resolve_vocabulary(larger, "abcd"));
  EXPECT_EQ(larger.layers[0].vocab, 8);
  EXPECT_THROW(nn::resolve_vocabulary(larger, ""), ModelError);

  auto last_step_only = tiny_spec();  // no return_sequences: one output for the sequence
  last_step_only.layers[1].return_sequences = false;
  last_step_only.layers[2].per_step = false;
  nn::resolve_vocabulary(last_step_only, "abcd");
  EXPECT_THROW(nn::build_networks(last_step_only), ModelError);
}

class NoUpdates final : public train::ModelUpdates {
 public:
  const nn::ParamGradsFinal* grads_final(std::size_t) override { return nullptr; }
  void update(std::size_t, double) override {}
};

// Sequences [n, T + 1, 1, 1] of ids < v.
tensor::Tensor sequences(std::size_t n, std::size_t steps, int v) {
  tensor::Tensor x(tensor::Shape{n, steps + 1, 1, 1});
  for (std::size_t i = 0; i < x.numel(); ++i) x.data()[i] = static_cast<float>((i * 7 + 3) % v);
  return x;
}

TEST(LanguageModelSpec, TheVocabularyTravelsInTheModelSpec) {
  auto c = tiny_spec();
  const std::string bytes("\0\n a\xc3\xa9", 6);  // a NUL and the two bytes of UTF-8 e-acute
  nn::resolve_vocabulary(c, bytes);
  const auto again = ckpt::from_proto(ckpt::to_proto(c));
  EXPECT_EQ(again.vocabulary, bytes);
  EXPECT_EQ(again.layers[0].vocab, 6);
  EXPECT_EQ(again.layers[2].units, 6);
  EXPECT_EQ(again.task_kind(), nn::kTaskLanguageModel);
}

TEST(TextData, MultiByteCharactersAreSeveralTokens) {
  // "\xc3\xa9" is e-acute in UTF-8: two vocabulary entries.
  std::string text;
  for (int i = 0; i < 8; ++i) text += "ab\xc3\xa9";
  const auto splits = data::load_text_data(write_text("utf8.txt", text), 3);
  EXPECT_EQ(splits.vocabulary, "ab\xa9\xc3");
  EXPECT_EQ(splits.train.size() + splits.val.size() + splits.test.size(), 8u);
  EXPECT_EQ(ids(splits.train), (std::vector<float>{0, 1, 3, 2, 0, 1, 3, 2, 0, 1, 3, 2,
                                                   0, 1, 3, 2, 0, 1, 3, 2, 0, 1, 3, 2}));
}

TEST(LanguageModelTask, GradientIsTheMeanOverAllPositionsOfTheGlobalBatch) {
  auto spec = tiny_spec(4);
  nn::resolve_vocabulary(spec, "abcde");
  auto task = train::make_task(spec, 1);
  ASSERT_EQ(task->kind(), nn::kTaskLanguageModel);
  auto& model = *task->models()[0].model;
  model.init_params(3);
  EXPECT_EQ(task->example_shape(), (tensor::Shape{5, 1, 1}));
  NoUpdates updates;
  const auto all = sequences(4, 4, 5);
  std::vector<double> sums(task->num_sums(), 0.0);
  task->train_step({.x = all, .labels = {}, .normalizer = 4.0}, sums, updates);
  const std::vector<float> whole(model.arena().grads().begin(), model.arena().grads().end());
  EXPECT_EQ(sums[1], 16.0);  // positions

  // Two "ranks" of 2 sequences each, normalized by the global batch: their gradients add
  // up to the whole batch's (what the allreduce sums).
  std::vector<float> summed(whole.size(), 0.0f);
  std::vector<double> half_sums(task->num_sums(), 0.0);
  for (std::size_t part = 0; part < 2; ++part) {
    tensor::Tensor x(tensor::Shape{2, 5, 1, 1});
    std::copy_n(all.data() + part * 10, 10, x.data());
    task->train_step({.x = x, .labels = {}, .normalizer = 4.0}, half_sums, updates);
    for (std::size_t i = 0; i < summed.size(); ++i) summed[i] += model.arena().grads()[i];
  }
  for (std::size_t i = 0; i < whole.size(); ++i) EXPECT_NEAR(summed[i], whole[i], 1e-6f) << i;
  EXPECT_NEAR(half_sums[0], sums[0], 1e-9 * std::abs(sums[0]));

  // The evaluation of the same sequences reports the same loss, and bits = nats / ln 2.
  data::Dataset ds{.height = 5, .width = 1, .channels = 1};
  ds.values.assign(all.data(), all.data() + all.numel());
  comm::SelfCommunicator self;
  const auto eval = train::evaluate_language_model(model, ds, self, 3);
  EXPECT_EQ(eval.positions, 16);
  EXPECT_EQ(eval.sequences, 4);
  EXPECT_NEAR(eval.loss, sums[0] / 16.0, 1e-9);
  EXPECT_NEAR(eval.bits_per_char, eval.loss / std::numbers::ln2, 1e-12);
  // And the gradient is that of the mean over positions (a central difference on the
  // output bias): normalizing by B alone would make it T = 4 times larger.
  std::size_t bias = 0;
  while (model.arena().slots()[bias].name != "dense2.bias") ++bias;
  auto b = model.arena().param(bias);
  const std::size_t grad_at = model.arena().slots()[bias].offset;
  for (std::size_t k = 0; k < b.size(); ++k) {
    const float saved = b[k], h = 1e-2f;
    b[k] = saved + h;
    const double up = train::evaluate_language_model(model, ds, self, 4).loss;
    b[k] = saved - h;
    const double down = train::evaluate_language_model(model, ds, self, 4).loss;
    b[k] = saved;
    EXPECT_NEAR(whole[grad_at + k], (up - down) / (2 * h), 2e-3) << k;
  }
  const auto report = task->epoch_report(sums, ds, self, 8);
  EXPECT_NEAR(report.json["train_bpc"].get<double>(), eval.bits_per_char, 1e-9);
  EXPECT_NEAR(report.json["val_bpc"].get<double>(), eval.bits_per_char, 1e-9);
  EXPECT_NEAR(task->final_report(ds, self, 2).json["test_bpc"].get<double>(), eval.bits_per_char,
              1e-9);
}

TEST(TextSampler, GeneratesTheRequestedCharactersFromTheVocabulary) {
  auto spec = tiny_spec(6);
  nn::resolve_vocabulary(spec, "ab\ncd");
  auto model = nn::build_model(spec);
  model->init_params(5);
  const auto params = model->arena().params();
  const auto text = eval::sample_text(spec, params, {.length = 40, .seed = 9});
  ASSERT_EQ(text.size(), 40u);
  for (char c : text) EXPECT_NE(spec.vocabulary.find(c), std::string::npos);
  EXPECT_EQ(eval::sample_text(spec, params, {.length = 40, .seed = 9}), text);  // seeded
  EXPECT_NE(eval::sample_text(spec, params, {.length = 40, .seed = 10}), text);
  EXPECT_EQ(eval::sample_text(spec, params, {.length = 7, .prime = "abcdabcdab"}).size(), 7u);
  EXPECT_TRUE(eval::sample_text(spec, params, {.length = 0}).empty());
  EXPECT_THROW(eval::sample_text(spec, params, {.length = 3, .prime = "abz"}), ConfigError);
  EXPECT_THROW(eval::sample_text(spec, params, {.length = 3, .temperature = 0.0}), ConfigError);
}

// A position embedding fixes T, so the sampler runs the whole context with the window at
// its start (the causal attention ignores the padding after it: test_transformer_layers).
TEST(TextSampler, AGptWithPositionEmbeddingsSamplesOverItsFullContext) {
  nn::ModelConfig spec{
      "tiny_gpt",
      6,
      1,
      1,
      {{.type = "embedding", .units = 4, .vocab = 0},
       {.type = "position_embedding"},
       {.type = "residual", .layers = {{.type = "layernorm"}, {.type = "attention", .heads = 2}}},
       {.type = "dense", .units = 0, .per_step = true}}};
  spec.task = nn::kTaskLanguageModel;
  nn::resolve_vocabulary(spec, "ab\ncd");
  auto model = nn::build_model(spec);
  model->init_params(5);
  const auto params = model->arena().params();
  const auto text = eval::sample_text(spec, params, {.length = 20, .seed = 9});
  ASSERT_EQ(text.size(), 20u);
  for (char c : text) EXPECT_NE(spec.vocabulary.find(c), std::string::npos);
  EXPECT_EQ(eval::sample_text(spec, params, {.length = 20, .seed = 9}), text);
  EXPECT_EQ(eval::sample_text(spec, params, {.length = 9, .prime = "abcdabcdab"}).size(), 9u);
}

TEST(TextSampler, AColdTemperatureFollowsTheLastPositionsArgMax) {
  // With every logit but one pushed far down by the output bias, the draw is that one.
  auto spec = tiny_spec(3);
  nn::resolve_vocabulary(spec, "xyz");
  auto model = nn::build_model(spec);
  model->init_params(2);
  auto& arena = model->arena();
  for (std::size_t s = 0; s < arena.slots().size(); ++s) {
    if (arena.slots()[s].name.find("dense") != std::string::npos &&
        arena.slots()[s].name.ends_with("bias")) {
      auto b = arena.param(s);
      b[0] = -50.0f, b[1] = 50.0f, b[2] = -50.0f;
    }
  }
  // The first character (no prime) is drawn uniformly; every later one is 'y'.
  const auto text = eval::sample_text(spec, arena.params(), {.length = 12, .temperature = 0.5});
  ASSERT_EQ(text.size(), 12u);
  EXPECT_EQ(text.substr(1), std::string(11, 'y'));
}

}  // namespace
}  // namespace dtrain
