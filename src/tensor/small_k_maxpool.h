#pragma once
// A small-K product (tensor/small_k.h) whose rows are a convolution's output grid, fused
// with the max pooling over tiling windows that follows it (a first conv layer, then
// 2x2 max pooling, as in the cnn): the convolution's output is never stored.
//
// Forward computes each window's rows of C in registers, keeps the first maximum per
// column and its window position, and writes only the pooled values (ReLU applied when
// asked) and a one-byte route per value. Backward rebuilds each row's gradient from the pooled
// gradient and the positions as it goes (the routed value at the maximum, zero elsewhere) and adds
// it into the weight and bias gradients, so the full-size gradient of C is never stored either.
// Unfused, the cnn's first layers write and read the 128x26x26x32 output and its gradient
// (11 MB each) four times per step; fused, only the 4x smaller pooled tensors move.
//
// The bits are those of small_k_forward followed by MaxPool2D (and a ReLU), and of
// MaxPool2D's backward followed by small_k_backward: the same per-row arithmetic
// (tensor/small_k_rows.h), the same first-maximum rule, rows summed in the same order.
#include <cstdint>

namespace dtrain::tensor {

// The rows of C as an image: batch samples of height x width rows, row-major, pooled by
// window x window tiles (stride = window); rows past the last whole tile are dropped.
struct SmallKPoolGrid {
  int batch = 0, height = 0, width = 0, window = 2;
  int out_height() const { return height / window; }
  int out_width() const { return width / window; }
  int rows() const { return batch * height * width; }
};

// Written by the forward pass per pooled element: the window position (row-major, 0 to
// window^2 - 1) of its first maximum, or kNoRoute where the relu clamped it. One byte where
// MaxPool2D keeps a 4-byte offset: backward reads it with the pooled gradient only, not the
// pooled values (the bytes moved per step are what limits these kernels).
inline constexpr std::uint8_t kNoRoute = 0xFF;

// pooled [batch, out_height, out_width, n], relu applied when asked; route as above.
void small_k_forward_maxpool(const SmallKPoolGrid& grid, int n, int k, const float* a,
                             const float* b, const float* bias, bool relu, float* pooled,
                             std::uint8_t* route);
// b_grad [n, k] += and bias_grad [n] += (null: none) from pooled_grad and the route.
void small_k_backward_maxpool(const SmallKPoolGrid& grid, int n, int k, const float* pooled_grad,
                              const std::uint8_t* route, const float* a, float* b_grad,
                              float* bias_grad);
// The full gradient of C [batch * height * width, n] from pooled_grad and the route, as
// MaxPool2D's backward (and an absorbed relu's) would write it: for a layer whose input
// gradient is wanted too.
void small_k_maxpool_expand_grad(const SmallKPoolGrid& grid, int n, const float* pooled_grad,
                                 const std::uint8_t* route, float* c_grad);

}  // namespace dtrain::tensor
