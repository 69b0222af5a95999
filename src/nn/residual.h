#pragma once
#include <memory>
#include <vector>

#include "nn/layer.h"

namespace dtrain::nn {

// A residual block: y = x + f(x), where f is the layers inside it, run in order (a
// transformer's pre-norm blocks, a ResNet block over an image). Their output must have the
// input's shape. It nests: an inner layer may be a residual too.
//
// To Sequential it is one layer. Its inner layers declare their parameters during its
// setup, one after another, so they form one contiguous range of the arena
// (Sequential::layer_params): bucket planning and the "gradients final" callback see the
// block as a whole, and that holds since all of its gradients are final once its backward
// returns. Inner layers are named by the model config "BLOCK.LAYER", so slot names stay
// unique. Backward: dx = dy + f's input gradient; inner parameter gradients accumulate as
// usual. Inner layers run as written (no relu/maxpool reordering inside).
class Residual final : public Layer {
 public:
  Residual(std::string name, std::vector<std::unique_ptr<Layer>> layers);
  std::string type() const override { return "residual"; }
  Shape setup(const Shape& input, ParamArena& arena) override;
  void init_params(Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
  std::vector<MatrixProduct> matrix_products(std::size_t batch, bool input_grad) const override;

  std::size_t num_layers() const { return layers_.size(); }
  const Layer& layer(std::size_t i) const { return *layers_[i]; }
  const Shape& layer_output_shape(std::size_t i) const { return shapes_[i]; }

 private:
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Shape> shapes_;    // per inner layer, per sample
  std::vector<Tensor> outputs_;  // outputs_[i]: output of inner layer i
  std::vector<Tensor> grads_;    // grads_[i]: gradient w.r.t. the input of inner layer i
};

}  // namespace dtrain::nn
