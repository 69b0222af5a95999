// A GAN: the discriminator D learns to tell real images (target 1) from the generator's
// (target 0); the generator G learns to make D say 1 (the non-saturating loss
// -log D(G(z)), which keeps G's gradient alive while D wins). One step: a D update on a
// real and a fake batch, then a G update through the updated D, each averaged over ranks.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "core/errors.h"
#include "core/rng.h"
#include "data/batch.h"
#include "nn/generator_io.h"
#include "nn/loss.h"
#include "render/image_grid.h"
#include "train/task.h"
#include "train/tasks/sharded_eval.h"

namespace dtrain::train {

namespace {

constexpr std::size_t kGenerator = 0, kDiscriminator = 1;  // models_ and checkpoint order
constexpr std::uint64_t kEvalNoise = 0x6576616cULL;        // "eval"
constexpr std::uint64_t kFixedNoise = 0x66697865ULL;       // "fixe"
constexpr std::size_t kGridSamples = 100, kGridColumns = 10;

class GanTask final : public Task {
 public:
  GanTask(nn::Sequential& generator, nn::Sequential& discriminator, nn::ImageRange range,
          std::uint64_t seed)
      : g_(generator), d_(discriminator), range_(range), seed_(seed) {
    models_.push_back({"generator", &generator});
    models_.push_back({"discriminator", &discriminator});
  }
  std::string kind() const override { return nn::kTaskGan; }
  const tensor::Shape& example_shape() const override { return d_.input_shape(); }
  std::size_t num_sums() const override { return 3; }  // d_loss, g_loss, examples

  void train_step(const StepBatch& b, std::span<double> sums, ModelUpdates& updates) override {
    const std::size_t n = b.x.shape()[0];
    const nn::ForwardContext ctx{
        .training = true, .noise_seed = b.rank_seed, .batch_stats = b.batch_stats};
    z_.resize(g_.input_shape().with_batch(n));
    nn::fill_noise(z_, n, b.step_seed, b.first_position);
    // D step: BCE(D(x), 1) + BCE(D(G(z)), 0), each a mean over the global batch.
    d_.arena().zero_grads();
    const tensor::Tensor& fake = g_.forward(z_, ctx);  // stays valid until G runs again
    const tensor::Tensor& real = nn::map_image_range(b.x, range_, nn::Toward::kModel, real_);
    double d_loss = nn::bce_with_logits(d_.forward(real, ctx), 1.0f, b.normalizer, &dlogits_);
    d_.backward(real, dlogits_);
    d_loss += nn::bce_with_logits(d_.forward(fake, ctx), 0.0f, b.normalizer, &dlogits_);
    // D's gradients are final after its second backward pass, the one that reports them.
    d_.backward(fake, dlogits_, false, updates.grads_final(kDiscriminator));
    updates.update(kDiscriminator, d_loss);
    // G step through the updated D. D's parameter gradients collect junk here; the next D
    // step zeroes them before use.
    g_.arena().zero_grads();
    const double g_loss = nn::bce_with_logits(d_.forward(fake, ctx), 1.0f, b.normalizer, &dlogits_);
    d_.backward(fake, dlogits_, /*need_input_grad=*/true);
    g_.backward(z_, d_.input_grad(), false, updates.grads_final(kGenerator));
    updates.update(kGenerator, g_loss);
    sums[0] += d_loss;
    sums[1] += g_loss;
    sums[2] += static_cast<double>(n);
  }

  Report epoch_report(std::span<const double> sums, const data::Dataset&, comm::Communicator&,
                      int) override {
    const double n = sums[2];
    const double d_loss = n > 0 ? sums[0] / n : 0.0, g_loss = n > 0 ? sums[1] / n : 0.0;
    Report r;
    r.json = {{"d_loss", d_loss}, {"g_loss", g_loss}};
    r.text = figure("d_loss", d_loss) + "  " + figure("g_loss", g_loss);
    return r;
  }

  Report final_report(const data::Dataset& test, comm::Communicator& comm,
                      int eval_batch) override {
    const auto t = evaluate_gan(g_, d_, range_, test, comm, eval_batch, seed_);
    Report r;
    r.json = {{"d_loss", t.d_loss}, {"g_loss", t.g_loss}};
    r.text = figure("test d_loss", t.d_loss) + "  " + figure("g_loss", t.g_loss);
    r.examples = t.count;
    return r;
  }

  // Samples from the same noise at every epoch end, so the grids show G's progress.
  std::string write_epoch_outputs(const OutputContext& out, const data::DataSplits&) override {
    tensor::Tensor z(g_.input_shape().with_batch(kGridSamples));
    nn::fill_noise(z, kGridSamples, derive_seed(seed_, kFixedNoise), 0);
    tensor::Tensor scratch;
    const auto& images =
        nn::map_image_range(g_.forward(z, {.training = false}), range_, nn::Toward::kUnit, scratch);
    const auto& shape = g_.output_shape();
    const auto path = (std::filesystem::path(out.output_dir) /
                       ("samples-epoch-" + std::to_string(out.epoch) + ".png"))
                          .string();
    render::write_image_grid(
        path, {.images = {images.data(), images.numel()},
               .count = kGridSamples,
               .height = shape[0],
               .width = shape[1],
               .channels = shape[2],
               .columns = kGridColumns,
               .title = out.model_name + "  epoch " + std::to_string(out.epoch) + "  (" +
                        std::to_string(kGridSamples) + " samples, the same noise every epoch)",
               .scale = out.image_scale});
    return path;
  }

 private:
  nn::Sequential& g_;
  nn::Sequential& d_;
  nn::ImageRange range_;
  std::uint64_t seed_;
  tensor::Tensor z_, dlogits_, real_;
};

}  // namespace

GanEvalResult evaluate_gan(nn::Sequential& generator, nn::Sequential& discriminator,
                           nn::ImageRange range, const data::Dataset& ds, comm::Communicator& comm,
                           int eval_batch, std::uint64_t seed) {
  tensor::Tensor z, scratch;
  double sums[3] = {0.0, 0.0, 0.0};  // d_loss, g_loss, count
  const nn::ForwardContext ctx{.training = false};
  evaluate_sharded(
      ds, discriminator.input_shape(), /*with_labels=*/false, comm, eval_batch, sums,
      [&](const EvalBatch& b) {
        z.resize(generator.input_shape().with_batch(b.n));
        nn::fill_noise(z, b.n, derive_seed(seed, kEvalNoise), b.first);
        const auto& real = nn::map_image_range(b.x, range, nn::Toward::kModel, scratch);
        sums[0] += nn::bce_with_logits(discriminator.forward(real, ctx), 1.0f, 1.0, nullptr);
        const auto& fake_logits = discriminator.forward(generator.forward(z, ctx), ctx);
        sums[0] += nn::bce_with_logits(fake_logits, 0.0f, 1.0, nullptr);
        sums[1] += nn::bce_with_logits(fake_logits, 1.0f, 1.0, nullptr);
        sums[2] += static_cast<double>(b.n);
      });
  GanEvalResult r;
  r.count = static_cast<std::int64_t>(sums[2]);
  if (r.count > 0) {
    r.d_loss = sums[0] / sums[2];
    r.g_loss = sums[1] / sums[2];
  }
  return r;
}

std::unique_ptr<Task> make_gan_task(nn::Sequential& generator, nn::Sequential& discriminator,
                                    nn::ImageRange range, std::uint64_t seed) {
  return std::make_unique<GanTask>(generator, discriminator, range, seed);
}

}  // namespace dtrain::train
