#include "nn/conv_geometry.h"

#include <cstdint>

#include "nn/param_arena.h"

namespace dtrain::nn {

namespace {

std::string side_limit(const std::string& what, std::int64_t h, std::int64_t w) {
  return what + " would be " + std::to_string(h) + "x" + std::to_string(w) +
         ", more than dtrain's limit of " + std::to_string(kMaxConvSide) + " per side";
}

}  // namespace

std::string setup_conv_geometry(ConvDirection direction, int filters, int output_padding,
                                const Shape& input, tensor::ConvGeometry& g) {
  if (filters <= 0 || g.kernel <= 0 || g.stride <= 0 || g.padding < 0) {
    return "filters, kernel and stride must be positive and padding >= 0 (got filters " +
           std::to_string(filters) + ", kernel " + std::to_string(g.kernel) + ", stride " +
           std::to_string(g.stride) + ", padding " + std::to_string(g.padding) + ")";
  }
  // A larger output_padding would add rows no input reaches and break the adjointness
  // (the convolution over the output would have more windows than there are inputs).
  if (output_padding < 0 || output_padding >= g.stride) {
    return "output_padding must be in [0, stride " + std::to_string(g.stride) + "), got " +
           std::to_string(output_padding);
  }
  if (input.rank() != 3) {
    return "expects an image input [height, width, channels], got " + input.to_string();
  }
  const auto in_h = static_cast<std::int64_t>(input[0]), in_w = static_cast<std::int64_t>(input[1]);
  const auto in_channels = static_cast<std::int64_t>(input[2]);
  const bool forward = direction == ConvDirection::kForward;
  const std::int64_t pad2 = 2 * std::int64_t(g.padding);
  std::int64_t height = in_h, width = in_w;  // g's input
  if (forward) {
    if (in_h + pad2 < g.kernel || in_w + pad2 < g.kernel) {
      return "kernel " + std::to_string(g.kernel) + " does not fit the padded input " +
             input.to_string();
    }
    if (in_h + pad2 > kMaxConvSide || in_w + pad2 > kMaxConvSide) {
      return side_limit("the padded input of " + input.to_string(), in_h + pad2, in_w + pad2);
    }
  } else {
    // The uncropped scatter; padding then crops pad rows and columns from each border.
    auto full_size = [&](std::int64_t in) {
      return (in - 1) * g.stride + g.kernel + output_padding;
    };
    const std::int64_t full_h = full_size(in_h), full_w = full_size(in_w);
    if (full_h > kMaxConvSide || full_w > kMaxConvSide) {
      return "the output of " + input.to_string() + " would be " + std::to_string(full_h) + "x" +
             std::to_string(full_w) + " before cropping, more than dtrain's limit of " +
             std::to_string(kMaxConvSide) + " per side";
    }
    height = full_h - pad2;
    width = full_w - pad2;
  }
  // The weight: conv2d's [filters, K*K*C], conv2d_transpose's [C_in, K*K*filters].
  const std::int64_t rows = forward ? filters : in_channels;
  const std::int64_t per_tap = forward ? in_channels : filters;
  const double weights = double(rows) * g.kernel * g.kernel * per_tap;
  if (weights > double(ParamArena::kMaxParams)) {
    return "a weight of " + std::to_string(rows) + " x " + std::to_string(g.kernel) + "x" +
           std::to_string(g.kernel) + " x " + std::to_string(per_tap) +
           " is beyond dtrain's limit of " + std::to_string(ParamArena::kMaxParams) + " parameters";
  }
  if (height <= 0 || width <= 0) {
    return "padding " + std::to_string(g.padding) + " crops the whole output of " +
           input.to_string() + " (output " + std::to_string(height) + "x" + std::to_string(width) +
           ")";
  }
  g.height = static_cast<int>(height);
  g.width = static_cast<int>(width);
  g.channels = static_cast<int>(forward ? in_channels : filters);
  // Transposed: (out + 2p - K) = (in - 1) * s + output_padding with output_padding < s, so
  // the convolution over the output has exactly one window per input pixel.
  if (!forward && (g.out_height() != in_h || g.out_width() != in_w)) {
    return "internal: the adjoint convolution does not map back onto " + input.to_string();
  }
  return "";
}

}  // namespace dtrain::nn
