#pragma once
// PNG grids of images (autoencoder reconstructions, GAN samples). Only image_grid.cpp
// includes <png.h>: the encoder is Debian's libpng, not hand-written (DESIGN.md).
#include <cstddef>
#include <span>
#include <string>

namespace dtrain::train {

// Writes `count` images of height x width x channels (1: gray, 3: RGB) floats in [0, 1]
// (clamped), HWC, sample after sample, as a grid of `columns` per row with no gaps, 8 bits
// per channel. Throws TrainingError naming the file when it cannot be written.
void write_image_grid(const std::string& path, std::span<const float> images, std::size_t count,
                      std::size_t height, std::size_t width, std::size_t channels,
                      std::size_t columns);

}  // namespace dtrain::train
