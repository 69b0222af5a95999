#pragma once
#include "nn/init.h"
#include "nn/layer.h"
#include "tensor/im2col.h"

namespace dtrain::nn {

// Transposed 2-D convolution ("deconvolution") over NHWC images, as ONNX ConvTranspose and
// PyTorch ConvTranspose2d define it: each input pixel scatters a K x K x filters block,
// weighted by its channels, onto the output at stride s, and overlapping blocks add up.
// Output size per side: (in - 1) * stride - 2 * padding + kernel + output_padding; padding
// crops that many rows and columns from each border of the full scatter, output_padding
// (< stride) adds rows and columns at the bottom and right that only the bias reaches.
//
// It is the adjoint of a Conv2D whose input is this layer's output: with the convolution's
// geometry g (input OH x OW x filters, same kernel, stride, padding; its output is exactly
// H x W), forward is one GEMM and a col2im, backward an im2col and two GEMMs:
//   cols [B*H*W, K*K*F] = x [B*H*W, C] * W [C, K*K*F]   then y = col2im(cols) + bias
//   dcols = im2col(dy);  dx = dcols * W^T;  dW += x^T * dcols;  db += sum of dy
// Weight layout: W [C_in, (kh, kw, f)], the weight of that convolution (PyTorch's
// [C_in, C_out, kH, kW] up to the order within a row).
class Conv2DTranspose final : public Layer {
 public:
  // bias false (no_bias in a spec): no bias slot, as before a batchnorm.
  Conv2DTranspose(std::string name, int filters, int kernel, int stride, int padding,
                  int output_padding, InitScheme init, bool bias = true);
  std::string type() const override { return "conv2d_transpose"; }
  Shape setup(const Shape& input, ParamArena& arena) override;
  // fan_in = K*K*filters, fan_out = K*K*C_in, as Keras' Conv2DTranspose and PyTorch count.
  void init_params(Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
  std::vector<MatrixProduct> matrix_products(std::size_t batch, bool input_grad) const override;

 private:
  int filters_, output_padding_;
  int in_channels_ = 0;
  tensor::ConvGeometry geometry_;  // of the adjoint convolution: its input is our output
  InitScheme init_;
  ParamArena* arena_ = nullptr;
  bool bias_;
  std::size_t weight_slot_ = 0, bias_slot_ = 0;
  Tensor cols_;  // [B*H*W, K*K*F]: forward's columns, then backward's im2col of dy
};

}  // namespace dtrain::nn
