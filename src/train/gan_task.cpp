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
#include "nn/loss.h"
#include "train/image_grid.h"
#include "train/task.h"

namespace dtrain::train {

namespace {

constexpr std::size_t kGenerator = 0, kDiscriminator = 1;  // models_ and checkpoint order
constexpr std::uint64_t kEvalNoise = 0x6576616cULL;        // "eval"
constexpr std::uint64_t kFixedNoise = 0x66697865ULL;       // "fixe"
constexpr std::uint64_t kJudgeNoise = 0x6a756467ULL;       // "judg"
constexpr std::size_t kGridSamples = 100, kGridColumns = 10;

// One noise vector per example, drawn from a stream of its own: example `first + i` of
// a step gets the same noise whichever rank holds it, so np=1 and np=P compute the same
// step, while every rank and step still draws different noise.
void fill_noise(tensor::Tensor& z, std::size_t n, std::uint64_t seed, std::size_t first) {
  const std::size_t dim = z.numel() / n;
  for (std::size_t i = 0; i < n; ++i) {
    Rng rng(derive_seed(seed, first + i));
    for (std::size_t j = 0; j < dim; ++j) z[i * dim + j] = rng.normal();
  }
}

// Real images are read in [0, 1]; a tanh generator's live in [-1, 1]. The discriminator sees
// both in the generator's range, PNGs and the judging classifier in [0, 1]. Returns `images`
// itself when the ranges agree, else `scratch` holding the mapped copy.
enum class Toward { kModel, kUnit };
const tensor::Tensor& mapped(const tensor::Tensor& images, nn::ImageRange range, Toward toward,
                             tensor::Tensor& scratch) {
  if (range == nn::ImageRange::kZeroToOne) return images;
  const bool to_model = toward == Toward::kModel;
  const float scale = to_model ? 2.0f : 0.5f, shift = to_model ? -1.0f : 0.5f;
  scratch.resize(images.shape());
  for (std::size_t i = 0; i < images.numel(); ++i) scratch[i] = scale * images[i] + shift;
  return scratch;
}

std::string format(const char* fmt, double a, double b) {
  char text[128];
  std::snprintf(text, sizeof text, fmt, a, b);
  return text;
}

// Adds one batch of classifier logits to a judgement.
void tally(const tensor::Tensor& logits, std::size_t n, double threshold, SampleJudgement& j) {
  const std::size_t classes = j.class_counts.size();
  for (std::size_t i = 0; i < n; ++i) {
    const float* l = logits.data() + i * classes;
    const std::size_t best = static_cast<std::size_t>(std::max_element(l, l + classes) - l);
    double sum = 0.0;
    for (std::size_t c = 0; c < classes; ++c) sum += std::exp(double(l[c]) - l[best]);
    ++j.class_counts[best];
    if (1.0 / sum >= threshold) ++j.confident_class_counts[best];  // top softmax probability
  }
}

// The layer whose output a Frechet distance compares: the one before the last dense layer,
// the classifier's last representation before its logits (TF-GAN reads the same place).
std::size_t feature_layer(const nn::Sequential& classifier) {
  for (std::size_t i = classifier.num_layers(); i-- > 1;) {
    if (classifier.layer(i).type() == "dense") return i - 1;
  }
  throw ConfigError("classifier '" + classifier.name() +
                    "' has no dense layer after another layer: no features to compare");
}

// Classifies `count` images that `make_batch(first, n)` produces in batches, keeping their
// features.
template <typename MakeBatch>
SampleJudgement judge(nn::Sequential& classifier, std::size_t count, double threshold,
                      MakeBatch&& make_batch) {
  const std::size_t classes = classifier.output_shape().numel();
  const std::size_t layer = feature_layer(classifier);
  SampleJudgement j;
  j.class_counts.assign(classes, 0);
  j.confident_class_counts.assign(classes, 0);
  j.features.layer = classifier.layer(layer).name();
  j.features.dim = classifier.layer_output_shape(layer).numel();
  j.features.values.reserve(count * j.features.dim);
  constexpr std::size_t kBatch = 250;
  for (std::size_t done = 0; done < count;) {
    const std::size_t n = std::min(kBatch, count - done);
    tally(classifier.forward(make_batch(done, n), {.training = false}), n, threshold, j);
    const float* features = classifier.layer_output(layer).data();
    j.features.values.insert(j.features.values.end(), features, features + n * j.features.dim);
    done += n;
  }
  j.count = static_cast<std::int64_t>(count);
  const auto confident = std::accumulate(j.confident_class_counts.begin(),
                                         j.confident_class_counts.end(), std::int64_t{0});
  j.confident_share = count > 0 ? double(confident) / double(count) : 0.0;
  return j;
}

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
    fill_noise(z_, n, b.step_seed, b.first_position);
    // D step: BCE(D(x), 1) + BCE(D(G(z)), 0), each a mean over the global batch.
    d_.arena().zero_grads();
    const tensor::Tensor& fake = g_.forward(z_, ctx);  // stays valid until G runs again
    const tensor::Tensor& real = mapped(b.x, range_, Toward::kModel, real_);
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
    r.text = format("d_loss %.4f  g_loss %.4f", d_loss, g_loss);
    return r;
  }

  Report final_report(const data::Dataset& test, comm::Communicator& comm,
                      int eval_batch) override {
    const auto t = evaluate_gan(g_, d_, range_, test, comm, eval_batch, seed_);
    Report r;
    r.json = {{"d_loss", t.d_loss}, {"g_loss", t.g_loss}};
    r.text = format("test d_loss %.4f  g_loss %.4f", t.d_loss, t.g_loss);
    r.examples = t.count;
    return r;
  }

  // Samples from the same noise at every epoch end, so the grids show G's progress.
  std::string write_epoch_outputs(const OutputContext& out, const data::DataSplits&) override {
    tensor::Tensor z(g_.input_shape().with_batch(kGridSamples));
    fill_noise(z, kGridSamples, derive_seed(seed_, kFixedNoise), 0);
    tensor::Tensor scratch;
    const auto& images = mapped(g_.forward(z, {.training = false}), range_, Toward::kUnit, scratch);
    const auto& shape = g_.output_shape();
    const auto path = (std::filesystem::path(out.output_dir) /
                       ("samples-epoch-" + std::to_string(out.epoch) + ".png"))
                          .string();
    write_image_grid(
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
  const auto shard = data::eval_shard(ds.size(), comm.rank(), comm.size());
  tensor::Tensor x, z, scratch;
  double sums[3] = {0.0, 0.0, 0.0};  // d_loss, g_loss, count
  const nn::ForwardContext ctx{.training = false};
  for (std::size_t done = 0; done < shard.count;) {
    const std::size_t n = std::min<std::size_t>(eval_batch, shard.count - done);
    x.resize(discriminator.input_shape().with_batch(n));
    data::gather_range(ds, shard.begin + done, n, x.data());
    z.resize(generator.input_shape().with_batch(n));
    fill_noise(z, n, derive_seed(seed, kEvalNoise), shard.begin + done);
    sums[0] += nn::bce_with_logits(
        discriminator.forward(mapped(x, range, Toward::kModel, scratch), ctx), 1.0f, 1.0, nullptr);
    const auto& fake_logits = discriminator.forward(generator.forward(z, ctx), ctx);
    sums[0] += nn::bce_with_logits(fake_logits, 0.0f, 1.0, nullptr);
    sums[1] += nn::bce_with_logits(fake_logits, 1.0f, 1.0, nullptr);
    sums[2] += static_cast<double>(n);
    done += n;
  }
  comm.allreduce_sum(std::span<double>(sums, 3));
  GanEvalResult r;
  r.count = static_cast<std::int64_t>(sums[2]);
  if (r.count > 0) {
    r.d_loss = sums[0] / sums[2];
    r.g_loss = sums[1] / sums[2];
  }
  return r;
}

SampleJudgement judge_samples(nn::Sequential& generator, nn::ImageRange range,
                              nn::Sequential& classifier, std::size_t count, std::uint64_t seed,
                              double threshold) {
  if (generator.output_shape() != classifier.input_shape()) {
    throw ConfigError("the generator makes " + generator.output_shape().to_string() +
                      " images but the classifier takes " + classifier.input_shape().to_string());
  }
  tensor::Tensor z, scratch;
  return judge(
      classifier, count, threshold, [&](std::size_t first, std::size_t n) -> const tensor::Tensor& {
        z.resize(generator.input_shape().with_batch(n));
        fill_noise(z, n, derive_seed(seed, kJudgeNoise), first);
        return mapped(generator.forward(z, {.training = false}), range, Toward::kUnit, scratch);
      });
}

SampleJudgement judge_images(const data::Dataset& ds, nn::Sequential& classifier, std::size_t count,
                             double threshold) {
  const auto& in = classifier.input_shape();
  if (in[0] != std::size_t(ds.height) || in[1] != std::size_t(ds.width) ||
      in[2] != std::size_t(ds.channels)) {
    throw ConfigError("the data set holds " + std::to_string(ds.height) + "x" +
                      std::to_string(ds.width) + "x" + std::to_string(ds.channels) +
                      " images but the classifier takes " + in.to_string());
  }
  tensor::Tensor x;
  return judge(classifier, std::min(count, ds.size()), threshold,
               [&](std::size_t first, std::size_t n) -> const tensor::Tensor& {
                 x.resize(in.with_batch(n));
                 data::gather_range(ds, first, n, x.data());
                 return x;
               });
}

std::unique_ptr<Task> make_gan_task(nn::Sequential& generator, nn::Sequential& discriminator,
                                    nn::ImageRange range, std::uint64_t seed) {
  return std::make_unique<GanTask>(generator, discriminator, range, seed);
}

}  // namespace dtrain::train
