#include "nn/conv_maxpool.h"

#include "tensor/small_k_maxpool.h"

namespace dtrain::nn {

namespace {

tensor::SmallKPoolGrid grid_of(const tensor::ConvGeometry& g, std::size_t batch, int window) {
  return {static_cast<int>(batch), g.out_height(), g.out_width(), window};
}

}  // namespace

bool ConvMaxPool::fusable(const Conv2D& conv, const MaxPool2D& pool) {
  return conv.uses_small_k() && pool.stride_ == pool.kernel_ &&
         pool.kernel_ * pool.kernel_ < tensor::kNoRoute;
}

void ConvMaxPool::forward(Conv2D& conv, MaxPool2D& pool, const Tensor& x, Tensor& y) {
  const auto& g = conv.geometry_;
  const std::size_t batch = x.shape()[0];
  const int rows = static_cast<int>(batch) * g.patches();
  conv.cols_.resize(Shape{std::size_t(rows), std::size_t(g.patch_size())});
  tensor::im2col(g, static_cast<int>(batch), x.data(), conv.cols_.data());
  y.resize(Shape{batch, std::size_t(pool.out_height_), std::size_t(pool.out_width_),
                 std::size_t(conv.filters_)});
  pool.route_.resize(y.numel());
  const float* bias = conv.bias_ ? conv.arena_->param(conv.bias_slot_).data() : nullptr;
  tensor::small_k_forward_maxpool(grid_of(g, batch, pool.kernel_), conv.filters_, g.patch_size(),
                                  conv.cols_.data(), conv.arena_->param(conv.weight_slot_).data(),
                                  bias, pool.fused_relu_, y.data(), pool.route_.data());
}

void ConvMaxPool::backward(Conv2D& conv, MaxPool2D& pool, const Tensor& x, const Tensor& dy,
                           Tensor* dx, Tensor& conv_grad) {
  const auto& g = conv.geometry_;
  const std::size_t batch = x.shape()[0];
  const auto grid = grid_of(g, batch, pool.kernel_);
  if (dx) {
    conv_grad.resize(Shape{batch, std::size_t(g.out_height()), std::size_t(g.out_width()),
                           std::size_t(conv.filters_)});
    tensor::small_k_maxpool_expand_grad(grid, conv.filters_, dy.data(), pool.route_.data(),
                                        conv_grad.data());
    conv.backward(x, conv_grad, conv_grad, dx);  // Conv2D's backward does not read its output
    return;
  }
  float* bias_grad = conv.bias_ ? conv.arena_->grad(conv.bias_slot_).data() : nullptr;
  tensor::small_k_backward_maxpool(grid, conv.filters_, g.patch_size(), dy.data(),
                                   pool.route_.data(), conv.cols_.data(),
                                   conv.arena_->grad(conv.weight_slot_).data(), bias_grad);
}

}  // namespace dtrain::nn
