#pragma once
// im2col for channels-last (NHWC) images: turns a convolution over a whole batch into one
// GEMM. Row (b, oh, ow) of the column matrix holds the receptive field of that output pixel
// in (kh, kw, c) order, zeros where the window hangs over the padding.
#include <cstddef>

namespace dtrain::tensor {

struct ConvGeometry {
  int height = 0, width = 0, channels = 0;  // input, per sample
  int kernel = 1, stride = 1, padding = 0;

  int out_height() const { return (height + 2 * padding - kernel) / stride + 1; }
  int out_width() const { return (width + 2 * padding - kernel) / stride + 1; }
  int patch_size() const { return kernel * kernel * channels; }
  // Rows of the column matrix for one sample.
  int patches() const { return out_height() * out_width(); }
};

// input: [batch, H, W, C]; cols: [batch * OH * OW, K * K * C].
void im2col(const ConvGeometry& g, int batch, const float* input, float* cols);
// Adds the column-matrix gradient back onto the input gradient (which it first zeroes).
void col2im(const ConvGeometry& g, int batch, const float* cols, float* input_grad);

}  // namespace dtrain::tensor
