// Classification: softmax cross-entropy on the logits against the labels.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "data/batch.h"
#include "nn/loss.h"
#include "train/task.h"
#include "train/tasks/sharded_eval.h"

namespace dtrain::train {

namespace {

class ClassifyTask final : public Task {
 public:
  explicit ClassifyTask(nn::Sequential& model) : model_(model) {
    models_.push_back({"model", &model});
  }
  std::string kind() const override { return nn::kTaskClassify; }
  const tensor::Shape& example_shape() const override { return model_.input_shape(); }
  bool needs_labels() const override { return true; }
  std::size_t num_sums() const override { return 3; }  // loss, correct, examples

  void train_step(const StepBatch& b, std::span<double> sums, ModelUpdates& updates) override {
    if (b.zero_grads) model_.arena().zero_grads();
    const auto& logits = model_.forward(
        b.x, {.training = true, .noise_seed = b.rank_seed, .batch_stats = b.batch_stats});
    const auto stats = nn::softmax_cross_entropy(logits, b.labels, b.normalizer, &dlogits_);
    model_.backward(b.x, dlogits_, false, updates.grads_final(0));
    updates.update(0, stats.loss_sum);
    sums[0] += stats.loss_sum;
    sums[1] += static_cast<double>(stats.correct);
    sums[2] += static_cast<double>(b.labels.size());
  }

  Report epoch_report(std::span<const double> sums, const data::Dataset& val,
                      comm::Communicator& comm, int eval_batch) override {
    const double n = sums[2];
    const double loss = n > 0 ? sums[0] / n : 0.0, acc = n > 0 ? sums[1] / n : 0.0;
    const EvalResult v = evaluate(model_, val, comm, eval_batch);
    val_confusion_ = v.confusion;
    Report r;
    r.json = {{"train_loss", loss}, {"train_acc", acc}};
    r.text = figure("train_loss", loss) + "  " + figure("train_acc", acc);
    if (v.count > 0) {
      r.json["val_loss"] = v.loss;
      r.json["val_acc"] = v.accuracy;
    }
    r.text += "  " + figure("val_loss", v.loss) + "  " + figure("val_acc", v.accuracy);
    return r;
  }

  Report final_report(const data::Dataset& test, comm::Communicator& comm,
                      int eval_batch) override {
    const EvalResult t = evaluate(model_, test, comm, eval_batch);
    test_confusion_ = t.confusion;
    Report r;
    r.json = {{"test_loss", t.loss}, {"test_acc", t.accuracy}};
    r.text = figure("test_loss", t.loss) + "  " + figure("test_acc", t.accuracy);
    r.classifier = t;
    r.examples = t.count;
    return r;
  }

  // The validation set's confusion matrix of this epoch (computed by epoch_report).
  std::string write_epoch_outputs(const OutputContext& out, const data::DataSplits& data) override {
    return write_confusion(out, data, val_confusion_, "validation",
                           "confusion-val-epoch-" + std::to_string(out.epoch) + ".png",
                           "epoch " + std::to_string(out.epoch));
  }
  std::string write_final_outputs(const OutputContext& out, const data::DataSplits& data) override {
    return write_confusion(out, data, test_confusion_, "test", "confusion-test.png",
                           "after training");
  }

 private:
  static std::string write_confusion(const OutputContext& out, const data::DataSplits& data,
                                     const render::ConfusionMatrix& m, const std::string& set,
                                     const std::string& file, const std::string& when) {
    if (m.total() == 0) return {};
    char accuracy[32];
    std::snprintf(accuracy, sizeof accuracy, "%.4f", double(m.correct()) / double(m.total()));
    const auto path = (std::filesystem::path(out.output_dir) / file).string();
    render::write_confusion_matrix(path, m, render::class_names(data, m.classes),
                                   out.model_name + "  " + when + "  " + set + " set: " +
                                       std::to_string(m.total()) + " images, accuracy " + accuracy);
    return path;
  }

  nn::Sequential& model_;
  tensor::Tensor dlogits_;
  render::ConfusionMatrix val_confusion_, test_confusion_;
};

}  // namespace

EvalResult evaluate(nn::Sequential& model, const data::Dataset& ds, comm::Communicator& comm,
                    int eval_batch) {
  const std::size_t classes = model.output_shape().numel();
  // loss, correct, count, then the confusion counts: one allreduce for all of them (doubles
  // hold counts exactly up to 2^53).
  std::vector<double> sums(3 + classes * classes, 0.0);
  evaluate_sharded(ds, model.input_shape(), /*with_labels=*/true, comm, eval_batch, sums,
                   [&](const EvalBatch& b) {
                     const auto& logits = model.forward(b.x, {.training = false});
                     const auto stats = nn::softmax_cross_entropy(logits, b.labels, 1.0, nullptr);
                     sums[0] += stats.loss_sum;
                     sums[1] += static_cast<double>(stats.correct);
                     sums[2] += static_cast<double>(b.n);
                     for (std::size_t i = 0; i < b.n; ++i) {
                       const float* l = logits.data() + i * classes;
                       const auto predicted =
                           static_cast<std::size_t>(std::max_element(l, l + classes) - l);
                       const auto truth = static_cast<std::size_t>(b.labels[i]);
                       if (truth < classes) sums[3 + truth * classes + predicted] += 1.0;
                     }
                   });
  EvalResult r;
  r.confusion = render::ConfusionMatrix(classes);
  for (std::size_t i = 0; i < classes * classes; ++i) {
    r.confusion.counts[i] = static_cast<std::int64_t>(sums[3 + i]);
  }
  r.count = static_cast<std::int64_t>(sums[2]);
  if (r.count > 0) {
    r.loss = sums[0] / sums[2];
    r.accuracy = sums[1] / sums[2];
  }
  return r;
}

std::unique_ptr<Task> make_classify_task(nn::Sequential& model) {
  return std::make_unique<ClassifyTask>(model);
}

}  // namespace dtrain::train
