#pragma once
// Judging a trained model's outputs with a classifier: how recognizable a GAN's samples are
// (the share a classifier names with confidence, the classes that appear) and the features a
// Frechet distance compares. One process, no communication; `dtrain eval --classifier` uses it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "nn/model_config.h"
#include "nn/sequential.h"

namespace dtrain::eval {

// The features a Frechet distance compares: the output of the layer just before the
// classifier's last dense layer (the cnn's relu2, 128 values), one row per image.
struct ClassifierFeatures {
  std::string layer;          // that layer's name
  std::size_t dim = 0;        // values per image
  std::vector<float> values;  // row-major [count x dim]
};

// The share of images whose top softmax probability is >= threshold, how often each class is
// the top one, and their features.
struct SampleJudgement {
  std::int64_t count = 0;
  double confident_share = 0.0;
  std::vector<std::int64_t> class_counts;            // top class of every sample
  std::vector<std::int64_t> confident_class_counts;  // of the confident ones
  ClassifierFeatures features;                       // of every sample
};

// `count` samples of a generator (noise from `seed`), mapped from the generator's `range` to
// [0, 1] and classified by `classifier`. Throws ConfigError when the shapes disagree or the
// classifier has no layer before a dense layer.
SampleJudgement judge_samples(nn::Sequential& generator, nn::ImageRange range,
                              nn::Sequential& classifier, std::size_t count, std::uint64_t seed,
                              double threshold = 0.9);
// The same figures for the first `count` images of a data set: the reference a GAN's
// samples are read against (how confident the classifier is on real images).
SampleJudgement judge_images(const data::Dataset& ds, nn::Sequential& classifier, std::size_t count,
                             double threshold = 0.9);

}  // namespace dtrain::eval
