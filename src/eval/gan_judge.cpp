#include "eval/gan_judge.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/errors.h"
#include "core/rng.h"
#include "data/batch.h"
#include "nn/generator_io.h"

namespace dtrain::eval {

namespace {

constexpr std::uint64_t kJudgeNoise = 0x6a756467ULL;  // "judg"

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

}  // namespace

SampleJudgement judge_samples(nn::Sequential& generator, nn::ImageRange range,
                              nn::Sequential& classifier, std::size_t count, std::uint64_t seed,
                              double threshold) {
  if (generator.output_shape() != classifier.input_shape()) {
    throw ConfigError("the generator makes " + generator.output_shape().to_string() +
                      " images but the classifier takes " + classifier.input_shape().to_string());
  }
  tensor::Tensor z, scratch;
  return judge(classifier, count, threshold,
               [&](std::size_t first, std::size_t n) -> const tensor::Tensor& {
                 z.resize(generator.input_shape().with_batch(n));
                 nn::fill_noise(z, n, derive_seed(seed, kJudgeNoise), first);
                 return nn::map_image_range(generator.forward(z, {.training = false}), range,
                                            nn::Toward::kUnit, scratch);
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

}  // namespace dtrain::eval
