// A character-level language model (task "language_model"): an example is seq_len + 1 token
// ids [T + 1, 1, 1] (data/text_dataset.h); the network reads ids 0..T-1 and its logits at
// position t predict id t + 1. The loss is the softmax cross-entropy at every position, the
// mean over the GLOBAL batch's B * T positions, so np=1 and np=P take the same step.
// Figures: bits per character, loss_sum / (positions * ln 2), and the same loss in nats.
#include <cmath>
#include <cstdio>
#include <numbers>

#include "data/batch.h"
#include "nn/loss.h"
#include "train/task.h"
#include "train/tasks/sharded_eval.h"

namespace dtrain::train {

namespace {

double bits_per_char(double loss_sum, double positions) {
  return positions > 0 ? loss_sum / (positions * std::numbers::ln2) : 0.0;
}

class LanguageModelTask final : public Task {
 public:
  explicit LanguageModelTask(nn::Sequential& model)
      : model_(model), example_shape_({model.input_shape()[0] + 1, 1, 1}) {
    models_.push_back({"model", &model});
  }
  std::string kind() const override { return nn::kTaskLanguageModel; }
  const tensor::Shape& example_shape() const override { return example_shape_; }
  std::size_t num_sums() const override { return 2; }  // loss sum, positions

  void train_step(const StepBatch& b, std::span<double> sums, ModelUpdates& updates) override {
    if (b.zero_grads) model_.arena().zero_grads();
    split_inputs_targets(model_, b.x, x_, targets_);
    const double steps = static_cast<double>(model_.input_shape()[0]);
    const auto& logits = model_.forward(
        x_, {.training = true, .noise_seed = b.rank_seed, .batch_stats = b.batch_stats});
    const auto stats =
        nn::sequence_softmax_cross_entropy(logits, targets_, b.normalizer * steps, &dlogits_);
    model_.backward(x_, dlogits_, false, updates.grads_final(0));
    updates.update(0, stats.loss_sum);
    sums[0] += stats.loss_sum;
    sums[1] += static_cast<double>(targets_.size());
  }

  Report epoch_report(std::span<const double> sums, const data::Dataset& val,
                      comm::Communicator& comm, int eval_batch) override {
    Report r;
    const double loss = sums[1] > 0 ? sums[0] / sums[1] : 0.0;
    r.json = {{"train_loss", loss}, {"train_bpc", bits_per_char(sums[0], sums[1])}};
    r.text = figure("train_bpc", bits_per_char(sums[0], sums[1]));
    const auto v = evaluate_language_model(model_, val, comm, eval_batch);
    if (v.positions > 0) {
      r.json["val_loss"] = v.loss;
      r.json["val_bpc"] = v.bits_per_char;
      r.text += "  " + figure("val_bpc", v.bits_per_char);
    }
    return r;
  }

  Report final_report(const data::Dataset& test, comm::Communicator& comm,
                      int eval_batch) override {
    const auto t = evaluate_language_model(model_, test, comm, eval_batch);
    Report r;
    r.json = {{"test_loss", t.loss}, {"test_bpc", t.bits_per_char}};
    r.text = figure("test_bpc", t.bits_per_char);
    r.examples = t.sequences;
    return r;
  }

 private:
  nn::Sequential& model_;
  tensor::Shape example_shape_;
  tensor::Tensor x_, dlogits_;
  std::vector<std::int32_t> targets_;
};

}  // namespace

void split_inputs_targets(const nn::Sequential& model, const tensor::Tensor& sequences,
                          tensor::Tensor& inputs, std::vector<std::int32_t>& targets) {
  const std::size_t n = sequences.shape()[0], steps = model.input_shape()[0];
  inputs.resize(model.input_shape().with_batch(n));
  targets.resize(n * steps);
  for (std::size_t i = 0; i < n; ++i) {
    const float* seq = sequences.data() + i * (steps + 1);
    std::copy_n(seq, steps, inputs.data() + i * steps);
    for (std::size_t t = 0; t < steps; ++t) {
      targets[i * steps + t] = static_cast<std::int32_t>(seq[t + 1]);
    }
  }
}

LanguageModelResult evaluate_language_model(nn::Sequential& model, const data::Dataset& ds,
                                            comm::Communicator& comm, int eval_batch) {
  const tensor::Shape example({model.input_shape()[0] + 1, 1, 1});
  tensor::Tensor x;
  std::vector<std::int32_t> targets;
  double sums[3] = {0.0, 0.0, 0.0};  // loss sum, positions, sequences
  evaluate_sharded(
      ds, example, /*with_labels=*/false, comm, eval_batch, sums, [&](const EvalBatch& b) {
        split_inputs_targets(model, b.x, x, targets);
        const auto& logits = model.forward(x, {.training = false});
        sums[0] += nn::sequence_softmax_cross_entropy(logits, targets, 1.0, nullptr).loss_sum;
        sums[1] += static_cast<double>(targets.size());
        sums[2] += static_cast<double>(b.n);
      });
  LanguageModelResult r;
  r.positions = static_cast<std::int64_t>(sums[1]);
  r.sequences = static_cast<std::int64_t>(sums[2]);
  if (r.positions > 0) {
    r.loss = sums[0] / sums[1];
    r.bits_per_char = bits_per_char(sums[0], sums[1]);
  }
  return r;
}

std::unique_ptr<Task> make_language_model_task(nn::Sequential& model) {
  return std::make_unique<LanguageModelTask>(model);
}

}  // namespace dtrain::train
