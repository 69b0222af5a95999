#pragma once
// A stack of layers over one ParamArena. Activation and gradient buffers are kept between
// steps and only grow, so a training step allocates nothing after the first one.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/timeline.h"
#include "nn/layer.h"

namespace dtrain::nn {

// Called during backward with a layer's index once that layer's parameter gradients are
// final for the step (the layer has added its last contribution): what lets gradient
// communication start while backward goes on with the layers below.
using ParamGradsFinal = std::function<void(std::size_t layer)>;

// One layer's forward or backward pass as it happened: what `dtrain bench step` times and
// counts FLOPs of (Layer::matrix_products(batch, input_grad)).
struct LayerPassRecord {
  std::size_t layer = 0;
  Pass pass = Pass::kForward;
  std::size_t batch = 0;
  bool input_grad = false;  // backward computed the gradient w.r.t. the layer's input
  double seconds = 0.0;
};
using LayerPassObserver = std::function<void(const LayerPassRecord&)>;

// Floats [begin, end) of the arena that hold one layer's parameters (padding after its last
// slot included, so consecutive layers' ranges touch). Empty for layers without parameters.
struct LayerParamRange {
  std::size_t begin = 0;
  std::size_t end = 0;
};

class Sequential {
 public:
  Sequential(std::string name, Shape input_shape);

  void add(std::unique_ptr<Layer> layer);
  // relu followed by maxpool2d is executed as maxpool2d then relu: max and relu are both
  // monotone, so outputs and gradients are identical (ties included: both orders route
  // the gradient to the first maximum or zero it), and relu then touches 4x fewer values.
  // A relu right after a maxpool2d (reordered or written so) then runs inside the pool
  // (MaxPool2D::fuse_relu): its output is a view of the pool's, its backward is the pool's.
  // A small-K conv2d right before a maxpool2d with tiling windows runs with it as one pass
  // (nn/conv_maxpool.h): the conv's layer_output stays empty. The layers keep their names
  // and report their passes (an absorbed layer's take no time), and every result keeps its
  // bits. On by default; tests turn it off to compare with the layers as written.
  void set_reorder_relu_maxpool(bool enabled) { reorder_relu_maxpool_ = enabled; }
  // Sets up every layer (shape inference, parameter declaration) and allocates the arena.
  void build();
  // Draws parameters from the seed; each layer gets its own derived stream.
  void init_params(std::uint64_t seed);

  const Tensor& forward(const Tensor& x, const ForwardContext& ctx);
  // Back-propagates dloss (gradient w.r.t. the last output) through the batch last seen by
  // forward(), adding into the arena's gradients. With need_input_grad the gradient w.r.t.
  // x is kept in input_grad() (a GAN's generator needs the discriminator's).
  // grads_final (may be null) hears of every layer, last to first, right after its backward:
  // pass it only to the backward pass that completes the step's parameter gradients.
  void backward(const Tensor& x, const Tensor& dloss, bool need_input_grad = false,
                const ParamGradsFinal* grads_final = nullptr);
  const Tensor& input_grad() const { return input_grad_; }
  // Gradient w.r.t. layer_output(i) from the last backward: valid when layer i + 1 ran its
  // own backward (runs_alone(i + 1); a layer fused into another passes none on) and the
  // gradient flowed that far (need_input_grad, or i past the first layer with parameters).
  const Tensor& output_grad(std::size_t i) const { return grads_.at(i); }
  // Layer i runs its own forward and backward, not inside the layer before it.
  bool runs_alone(std::size_t i) const { return runs_.at(i) == Runs::kAlone; }

  ParamArena& arena() { return arena_; }
  const ParamArena& arena() const { return arena_; }
  const std::string& name() const { return name_; }
  const Shape& input_shape() const { return input_shape_; }
  const Shape& output_shape() const { return output_shape_; }
  std::size_t num_layers() const { return layers_.size(); }
  const Layer& layer(std::size_t i) const { return *layers_[i]; }
  // Output of layer i from the last forward(); valid until the next one. A pool that
  // absorbed the following relu reports the relu's output (the same memory).
  const Tensor& layer_output(std::size_t i) const { return outputs_.at(i); }
  const LayerParamRange& layer_params(std::size_t i) const { return layer_params_.at(i); }
  // Forward and backward of every layer become spans on this timeline (null: none).
  void set_timeline(Timeline* timeline) { timeline_ = timeline; }
  // Hears of every layer's pass with its duration (empty: none, and nothing is timed).
  void set_pass_observer(LayerPassObserver observer) { pass_observer_ = std::move(observer); }
  const Shape& layer_output_shape(std::size_t i) const { return layer_output_shapes_[i]; }
  double forward_flops_per_sample() const;
  // One line per layer: name, type, output shape, parameter count.
  std::string summary() const;

 private:
  std::string name_;
  Shape input_shape_;
  Shape output_shape_;
  std::vector<Shape> layer_output_shapes_;
  std::vector<LayerParamRange> layer_params_;
  std::size_t first_param_layer_ = 0;  // layers_.size() when no layer has parameters
  Timeline* timeline_ = nullptr;
  LayerPassObserver pass_observer_;
  std::vector<std::unique_ptr<Layer>> layers_;
  ParamArena arena_;
  std::vector<Tensor> outputs_;  // outputs_[i]: output of layer i
  std::vector<Tensor> grads_;    // grads_[i]: gradient w.r.t. outputs_[i]
  Tensor input_grad_;
  bool built_ = false;
  bool reorder_relu_maxpool_ = true;
  // How layer i runs: on its own, or inside layer i - 1 (a relu in its pool: its output is
  // a view of the pool's; a pool in its conv: the conv wrote its output).
  enum class Runs : std::uint8_t { kAlone, kReluInPool, kPoolInConv };
  std::vector<Runs> runs_;
};

}  // namespace dtrain::nn
