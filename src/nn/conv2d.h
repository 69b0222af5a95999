#pragma once
#include <vector>

#include "nn/init.h"
#include "nn/layer.h"
#include "tensor/im2col.h"
#include "tensor/small_k.h"

namespace dtrain::nn {

// 2-D convolution over NHWC images: im2col of the whole batch, then one GEMM against
// W [filters, K*K*C], so no per-sample loop wraps small GEMMs.
class Conv2D final : public Layer {
 public:
  // bias false (no_bias in a spec): no bias slot, as before a batchnorm.
  Conv2D(std::string name, int filters, int kernel, int stride, int padding, InitScheme init,
         bool bias = true);
  std::string type() const override { return "conv2d"; }
  Shape setup(const Shape& input, ParamArena& arena) override;
  void init_params(Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
  std::vector<MatrixProduct> matrix_products(std::size_t batch, bool input_grad) const override;

 private:
  friend class ConvMaxPool;  // runs this layer fused with the pool after it
  // First layers over few channels have a tiny GEMM depth; see tensor/small_k.h.
  bool uses_small_k() const { return geometry_.patch_size() <= tensor::kSmallK && filters_ <= 256; }
  int filters_;
  tensor::ConvGeometry geometry_;
  InitScheme init_;
  bool bias_;
  ParamArena* arena_ = nullptr;
  std::size_t weight_slot_ = 0, bias_slot_ = 0;
  Tensor cols_;  // im2col of the last forward input, reused by backward
  Tensor cols_grad_;
};

}  // namespace dtrain::nn
