#include "train/image_grid.h"

#include <png.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "core/errors.h"

namespace dtrain::train {

namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

void write_image_grid(const std::string& path, std::span<const float> images, std::size_t count,
                      std::size_t height, std::size_t width, std::size_t channels,
                      std::size_t columns) {
  if (count == 0 || columns == 0 || (channels != 1 && channels != 3) ||
      images.size() < count * height * width * channels) {
    throw TrainingError(path + ": no images, or an image layout PNG cannot hold");
  }
  const std::size_t cols = std::min(columns, count);
  const std::size_t rows = (count + cols - 1) / cols;
  const std::size_t grid_w = cols * width, grid_h = rows * height;
  // The whole grid as 8-bit rows; cells without an image stay black.
  std::vector<png_byte> pixels(grid_w * grid_h * channels, 0);
  for (std::size_t i = 0; i < count; ++i) {
    const float* img = images.data() + i * height * width * channels;
    const std::size_t top = (i / cols) * height, left = (i % cols) * width;
    for (std::size_t y = 0; y < height; ++y) {
      for (std::size_t x = 0; x < width * channels; ++x) {
        const float v = std::clamp(img[y * width * channels + x], 0.0f, 1.0f);
        pixels[((top + y) * grid_w + left) * channels + x] =
            static_cast<png_byte>(v * 255.0f + 0.5f);
      }
    }
  }
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "wb"));
  if (!file) throw TrainingError(path + ": cannot write the image: " + std::strerror(errno));
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info) {
    png_destroy_write_struct(&png, &info);
    throw TrainingError(path + ": libpng could not start a write");
  }
  // libpng reports errors by longjmp; nothing with a destructor is created below this.
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw TrainingError(path + ": libpng failed to write the image (disk full?)");
  }
  png_init_io(png, file.get());
  png_set_IHDR(png, info, static_cast<png_uint_32>(grid_w), static_cast<png_uint_32>(grid_h), 8,
               channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (std::size_t y = 0; y < grid_h; ++y) png_write_row(png, &pixels[y * grid_w * channels]);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  if (std::fflush(file.get()) != 0) {
    throw TrainingError(path + ": cannot write the image: " + std::strerror(errno));
  }
}

}  // namespace dtrain::train
