#include "nn/pool2d.h"

namespace dtrain::nn {

Shape Pool2D::setup(const Shape& input, ParamArena&) {
  if (kernel_ <= 0) throw shape_error("kernel must be positive, got " + std::to_string(kernel_));
  if (input.rank() != 3) {
    throw shape_error("expects an image input [height, width, channels], got " + input.to_string());
  }
  height_ = static_cast<int>(input[0]);
  width_ = static_cast<int>(input[1]);
  channels_ = static_cast<int>(input[2]);
  if (height_ < kernel_ || width_ < kernel_) {
    throw shape_error("kernel " + std::to_string(kernel_) + " is larger than the input " +
                      input.to_string());
  }
  out_height_ = (height_ - kernel_) / stride_ + 1;
  out_width_ = (width_ - kernel_) / stride_ + 1;
  return Shape{std::size_t(out_height_), std::size_t(out_width_), std::size_t(channels_)};
}

}  // namespace dtrain::nn
