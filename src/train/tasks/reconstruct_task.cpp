// Reconstruction (an autoencoder): the target is the input itself, the loss the mean over
// examples and pixels of (y - x)^2. Labels are never read.
#include <cstdio>
#include <filesystem>

#include "data/batch.h"
#include "nn/loss.h"
#include "render/image_grid.h"
#include "train/task.h"
#include "train/tasks/sharded_eval.h"

namespace dtrain::train {

namespace {

// Test images shown (with their reconstructions below them) at each epoch end.
constexpr std::size_t kGridImages = 10;

class ReconstructTask final : public Task {
 public:
  explicit ReconstructTask(nn::Sequential& model) : model_(model) {
    models_.push_back({"model", &model});
  }
  std::string kind() const override { return nn::kTaskReconstruct; }
  const tensor::Shape& example_shape() const override { return model_.input_shape(); }
  std::size_t num_sums() const override { return 2; }  // squared error, examples

  void train_step(const StepBatch& b, std::span<double> sums, ModelUpdates& updates) override {
    if (b.zero_grads) model_.arena().zero_grads();
    const auto& y = model_.forward(
        b.x, {.training = true, .noise_seed = b.rank_seed, .batch_stats = b.batch_stats});
    // The gradient of the mean over global batch x pixels of (y - x)^2 is
    // 2 (y - x) / (B * pixels); mse() divides (y - x) by its normalizer.
    const double pixels = static_cast<double>(model_.input_shape().numel());
    const double sq = nn::mse(y, {b.x.data(), b.x.numel()}, b.normalizer * pixels / 2.0, &dy_);
    model_.backward(b.x, dy_, false, updates.grads_final(0));
    updates.update(0, sq);
    sums[0] += sq;
    sums[1] += static_cast<double>(b.x.shape()[0]);
  }

  Report epoch_report(std::span<const double> sums, const data::Dataset& val,
                      comm::Communicator& comm, int eval_batch) override {
    const double pixels = static_cast<double>(model_.input_shape().numel());
    const double train_mse = sums[1] > 0 ? sums[0] / (sums[1] * pixels) : 0.0;
    Report r;
    r.json = {{"train_mse", train_mse}};
    r.text = figure("train_mse", train_mse, 5);
    const auto v = evaluate_reconstruction(model_, val, comm, eval_batch);
    if (v.count > 0) {
      r.json["val_mse"] = v.mse;
      r.text += "  " + figure("val_mse", v.mse, 5);
    }
    return r;
  }

  Report final_report(const data::Dataset& test, comm::Communicator& comm,
                      int eval_batch) override {
    const auto t = evaluate_reconstruction(model_, test, comm, eval_batch);
    Report r;
    r.json = {{"test_mse", t.mse}};
    r.text = figure("test_mse", t.mse, 5);
    r.examples = t.count;
    return r;
  }

  // Row 1: the first test images; row 2: their reconstructions.
  std::string write_epoch_outputs(const OutputContext& out, const data::DataSplits& data) override {
    const std::size_t n = std::min(kGridImages, data.test.size());
    if (n == 0) return {};
    const auto& shape = model_.input_shape();
    tensor::Tensor x(shape.with_batch(n));
    data::gather_range(data.test, 0, n, x.data());
    const auto& y = model_.forward(x, {.training = false});
    std::vector<float> images(x.data(), x.data() + x.numel());
    images.insert(images.end(), y.data(), y.data() + y.numel());
    const auto path = (std::filesystem::path(out.output_dir) /
                       ("reconstructions-epoch-" + std::to_string(out.epoch) + ".png"))
                          .string();
    render::write_image_grid(
        path, {.images = images,
               .count = 2 * n,
               .height = shape[0],
               .width = shape[1],
               .channels = shape[2],
               .columns = n,
               .title = out.model_name + "  epoch " + std::to_string(out.epoch) + "  (first " +
                        std::to_string(n) + " test images)",
               .row_labels = {"input", "output"},
               .scale = out.image_scale});
    return path;
  }

 private:
  nn::Sequential& model_;
  tensor::Tensor dy_;
};

}  // namespace

ReconstructionResult evaluate_reconstruction(nn::Sequential& model, const data::Dataset& ds,
                                             comm::Communicator& comm, int eval_batch) {
  double sums[2] = {0.0, 0.0};  // squared error, count
  evaluate_sharded(ds, model.input_shape(), /*with_labels=*/false, comm, eval_batch, sums,
                   [&](const EvalBatch& b) {
                     const auto& y = model.forward(b.x, {.training = false});
                     sums[0] += nn::mse(y, {b.x.data(), b.x.numel()}, 1.0, nullptr);
                     sums[1] += static_cast<double>(b.n);
                   });
  ReconstructionResult r;
  r.count = static_cast<std::int64_t>(sums[1]);
  if (r.count > 0) r.mse = sums[0] / (sums[1] * static_cast<double>(model.input_shape().numel()));
  return r;
}

std::unique_ptr<Task> make_reconstruct_task(nn::Sequential& model) {
  return std::make_unique<ReconstructTask>(model);
}

}  // namespace dtrain::train
