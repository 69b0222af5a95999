#pragma once
// Attribution maps as pictures: a map of one value per pixel becomes an RGB image through the
// "hot" colour scale (black, red, yellow, white as the value grows), and is laid over the
// input's gray values so a person sees where on the image the model looked.
#include <cstddef>
#include <span>
#include <vector>

namespace dtrain::render {

// |map| scaled so the largest is 1 (from_min: (v - min) / (max - min), for maps whose floor is
// not zero, as a Grad-CAM map over a constant background), as RGB floats in [0, 1], HWC
// ([pixels, 3]). A constant map is black.
std::vector<float> heat_rgb(std::span<const float> map, bool from_min = false);
// 0.45 of the image's gray (the mean over its `channels` values per pixel, in [0, 1]) plus
// 0.55 of the heat colours, RGB HWC: the overlay of the attribution on the input.
std::vector<float> overlay_rgb(std::span<const float> image, std::size_t channels,
                               std::span<const float> heat);
// A 1- or 3-channel image as RGB (gray repeated).
std::vector<float> to_rgb(std::span<const float> image, std::size_t channels);

}  // namespace dtrain::render
