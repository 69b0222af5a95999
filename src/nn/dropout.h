#pragma once
#include "nn/layer.h"

namespace dtrain::nn {

// Inverted dropout: in training each element is kept with probability 1 - rate and scaled
// by 1 / (1 - rate), so evaluation is the identity (a view, no copy) with the same expected
// activations. The mask is drawn from ctx.noise_seed, which the trainer derives per rank
// and step, mixed with the layer's name so two dropout layers draw different masks; the
// same seed therefore gives the same mask (reproducible runs, finite-difference checks).
class Dropout final : public Layer {
 public:
  Dropout(std::string name, float rate) : Layer(std::move(name)), rate_(rate) {}
  std::string type() const override { return "dropout"; }
  Shape setup(const Shape& input, ParamArena& arena) override;
  void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;

 private:
  float rate_;
  std::uint64_t stream_ = 0;  // this layer's share of the noise seed
  bool masked_ = false;       // whether the last forward applied mask_
  Tensor mask_;               // 0 or 1 / (1 - rate) per element
};

}  // namespace dtrain::nn
