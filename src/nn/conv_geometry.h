#pragma once
// The geometry checks conv2d and conv2d_transpose share. Both run their arithmetic through
// one convolution geometry g (tensor/im2col.h): conv2d its own, from its input to its
// output; conv2d_transpose the adjoint one, whose output is the layer's input and whose
// input is the layer's output.
#include <string>

#include "tensor/im2col.h"
#include "tensor/shape.h"

namespace dtrain::nn {

using tensor::Shape;

enum class ConvDirection {
  kForward,    // conv2d: the layer's input is g's input
  kTranspose,  // conv2d_transpose: the layer's input is g's output
};

// Largest side of a padded input (conv2d) or of an uncropped output (conv2d_transpose).
inline constexpr long long kMaxConvSide = 1LL << 24;

// g arrives with the layer's kernel, stride and padding. When the options fit the input,
// fills g's input sizes (height, width, channels) and returns ""; otherwise returns what is
// wrong, for the layer's shape_error to name the layer. Checked in this order:
//  1. filters, kernel and stride positive, padding >= 0;
//  2. output_padding in [0, stride) (conv2d passes 0);
//  3. the input an image [height, width, channels];
//  4. the sizes, in 64 bits so that a spec of a few bytes cannot overflow int here or in
//     im2col: forward, the kernel fits the padded input and the padded input stays within
//     kMaxConvSide per side; transposed, the uncropped scatter
//     ((in - 1) * stride + kernel + output_padding) stays within kMaxConvSide per side;
//  5. the weight (C_in x K x K x filters) within ParamArena::kMaxParams;
//  6. transposed, padding leaves some of the output.
std::string setup_conv_geometry(ConvDirection direction, int filters, int output_padding,
                                const Shape& input, tensor::ConvGeometry& g);

}  // namespace dtrain::nn
