#include "render/heatmap.h"

#include <algorithm>
#include <cmath>

namespace dtrain::render {

std::vector<float> heat_rgb(std::span<const float> map, bool from_min) {
  float floor = 0.0f, top = 0.0f;
  if (from_min && !map.empty()) {
    floor = *std::min_element(map.begin(), map.end());
    top = *std::max_element(map.begin(), map.end()) - floor;
  } else {
    for (float v : map) top = std::max(top, std::fabs(v));
  }
  std::vector<float> rgb(map.size() * 3, 0.0f);
  if (top <= 0.0f) return rgb;
  for (std::size_t p = 0; p < map.size(); ++p) {
    // 0..1 along black -> red -> yellow -> white
    const float t = from_min ? (map[p] - floor) / top : std::fabs(map[p]) / top;
    rgb[3 * p + 0] = std::clamp(3.0f * t, 0.0f, 1.0f);
    rgb[3 * p + 1] = std::clamp(3.0f * t - 1.0f, 0.0f, 1.0f);
    rgb[3 * p + 2] = std::clamp(3.0f * t - 2.0f, 0.0f, 1.0f);
  }
  return rgb;
}

std::vector<float> to_rgb(std::span<const float> image, std::size_t channels) {
  const std::size_t pixels = image.size() / channels;
  std::vector<float> rgb(pixels * 3);
  for (std::size_t p = 0; p < pixels; ++p) {
    for (std::size_t c = 0; c < 3; ++c) {
      rgb[3 * p + c] = channels == 3 ? image[3 * p + c] : image[p * channels];
    }
  }
  return rgb;
}

std::vector<float> overlay_rgb(std::span<const float> image, std::size_t channels,
                               std::span<const float> heat) {
  const std::size_t pixels = image.size() / channels;
  std::vector<float> rgb(pixels * 3);
  for (std::size_t p = 0; p < pixels; ++p) {
    float gray = 0.0f;
    for (std::size_t c = 0; c < channels; ++c) gray += image[p * channels + c];
    gray = std::clamp(gray / float(channels), 0.0f, 1.0f);
    for (std::size_t c = 0; c < 3; ++c) rgb[3 * p + c] = 0.45f * gray + 0.55f * heat[3 * p + c];
  }
  return rgb;
}

}  // namespace dtrain::render
