#pragma once
#include "nn/layer.h"

namespace dtrain::nn {

// A learned position embedding (GPT-2's wpe): y = x + P, with one learned row per position.
// Per sample the input is a sequence [T, C] (an embedding's output); P has the input's
// shape [T, C] and is the same for every sample of the batch. dx = dy; dP += the sum of dy
// over the batch. No GEMM.
class PositionEmbedding final : public Layer {
 public:
  explicit PositionEmbedding(std::string name) : Layer(std::move(name)) {}
  std::string type() const override { return "position_embedding"; }
  Shape setup(const Shape& input, ParamArena& arena) override;
  void init_params(Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;

 private:
  std::size_t size_ = 0;  // T * C
  ParamArena* arena_ = nullptr;
  std::size_t weight_slot_ = 0;
};

}  // namespace dtrain::nn
