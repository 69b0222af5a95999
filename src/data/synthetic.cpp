#include "data/synthetic.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "core/rng.h"

namespace dtrain::data {
namespace {

constexpr int kSide = 28;
constexpr int kClasses = 10;

// Distinct derive_seed purposes so the three splits are independent draws.
enum SplitTag : std::uint64_t { kTrainTag = 0x7472, kValTag = 0x76616C, kTestTag = 0x74657374 };

float squared_distance_to_segment(float px, float py, float ax, float ay, float bx, float by) {
  const float dx = bx - ax;
  const float dy = by - ay;
  const float len2 = dx * dx + dy * dy;
  float t = len2 > 0.0f ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0.0f;
  t = std::clamp(t, 0.0f, 1.0f);
  const float ex = px - (ax + t * dx);
  const float ey = py - (ay + t * dy);
  return ex * ex + ey * ey;
}

void draw_example(Rng& rng, int label, std::uint8_t* out) {
  const float cx = 13.5f + rng.uniform(-2.0f, 2.0f);
  const float cy = 13.5f + rng.uniform(-2.0f, 2.0f);
  const float angle = static_cast<float>(2.0 * std::numbers::pi * label / kClasses) +
                      rng.uniform(-0.14f, 0.14f);  // +-8 degrees of the 36 between classes
  const float length = rng.uniform(7.5f, 10.0f);
  const float tip_x = cx + length * std::cos(angle);
  const float tip_y = cy - length * std::sin(angle);
  const float stroke_w = rng.uniform(0.7f, 1.2f);
  const float blob_sigma = rng.uniform(1.4f, 2.2f);
  const float brightness = rng.uniform(0.6f, 1.0f);
  const float noise = rng.uniform(0.05f, 0.2f);

  const float stroke_k = -1.0f / (2.0f * stroke_w * stroke_w);
  const float blob_k = -1.0f / (2.0f * blob_sigma * blob_sigma);
  for (int y = 0; y < kSide; ++y) {
    for (int x = 0; x < kSide; ++x) {
      const auto px = static_cast<float>(x);
      const auto py = static_cast<float>(y);
      const float d2_stroke = squared_distance_to_segment(px, py, cx, cy, tip_x, tip_y);
      const float d2_blob = (px - tip_x) * (px - tip_x) + (py - tip_y) * (py - tip_y);
      const float ink =
          brightness * std::max(std::exp(d2_stroke * stroke_k), std::exp(d2_blob * blob_k));
      const float v = std::clamp(ink + noise * rng.uniform(), 0.0f, 1.0f);
      out[y * kSide + x] = static_cast<std::uint8_t>(std::lround(v * 255.0f));
    }
  }
}

Dataset make_split(std::size_t n, std::uint64_t seed, SplitTag tag) {
  Dataset ds;
  ds.height = kSide;
  ds.width = kSide;
  ds.channels = 1;
  ds.num_classes = kClasses;
  ds.pixels.resize(n * ds.sample_size());
  ds.labels.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    Rng rng(derive_seed(seed, tag, i));
    const int label = static_cast<int>(rng.below(kClasses));
    ds.labels[i] = label;
    draw_example(rng, label, ds.pixels.data() + i * ds.sample_size());
  }
  return ds;
}

}  // namespace

DataSplits make_synthetic(std::size_t train, std::size_t val, std::size_t test,
                          std::uint64_t seed) {
  DataSplits splits;
  splits.train = make_split(train, seed, kTrainTag);
  splits.val = make_split(val, seed, kValTag);
  splits.test = make_split(test, seed, kTestTag);
  splits.description = "synthetic (seed " + std::to_string(seed) + ", " + std::to_string(train) +
                       " train, " + std::to_string(val) + " val, " + std::to_string(test) +
                       " test)";
  return splits;
}

}  // namespace dtrain::data
