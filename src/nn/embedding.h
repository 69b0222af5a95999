#pragma once
#include "nn/layer.h"

namespace dtrain::nn {

// A lookup table: token ids in, one learned row per token out. Per sample the input is a
// sequence of T ids stored as floats, shaped [T] or [T, 1, ...] (a ModelSpec's input is
// always height x width x channels, so a text model reads [T, 1, 1]); the output is [T, D].
// Parameter: weight [V, D]. Every id must be an integer in [0, V); anything else is refused
// with std::invalid_argument naming the layer, the id and V (bad data, as Sequential
// refuses a mis-shaped batch), never read out of bounds.
//
// Forward copies row id of the weight for each of the B*T positions, backward adds dy's
// row into row id of the weight gradient: both O(B*T*D), no GEMM. Ids are not
// differentiable, so the input gradient (asked for only when the layer is not the first)
// is zeros of the input's shape.
class Embedding final : public Layer {
 public:
  Embedding(std::string name, int vocab, int units);
  std::string type() const override { return "embedding"; }
  Shape setup(const Shape& input, ParamArena& arena) override;
  // Uniform in [-0.05, 0.05] (Keras' default for Embedding): the rows feed a recurrent
  // layer whose Glorot weights expect inputs of order one or smaller, and small rows keep
  // its gates off saturation at the start. Glorot does not fit here: its fan-in would be
  // V, yet each output reads one row, not V of them.
  void init_params(Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;

 private:
  // The id at position i of x, checked.
  std::size_t token_at(const Tensor& x, std::size_t i) const;

  int vocab_;
  int units_;
  ParamArena* arena_ = nullptr;
  std::size_t weight_slot_ = 0;
};

}  // namespace dtrain::nn
