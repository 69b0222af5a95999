#include "nn/sequential.h"

#include <chrono>
#include <sstream>
#include <stdexcept>

#include "nn/conv_maxpool.h"

namespace dtrain::nn {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point begin) {
  return std::chrono::duration<double>(Clock::now() - begin).count();
}

}  // namespace

Sequential::Sequential(std::string name, Shape input_shape)
    : name_(std::move(name)), input_shape_(std::move(input_shape)) {}

void Sequential::add(std::unique_ptr<Layer> layer) {
  if (built_) throw std::logic_error("Sequential::add after build");
  layers_.push_back(std::move(layer));
}

void Sequential::build() {
  if (layers_.empty()) throw ModelError("model '" + name_ + "' has no layers");
  for (std::size_t i = 0; reorder_relu_maxpool_ && i + 1 < layers_.size(); ++i) {
    if (layers_[i]->type() == "relu" && layers_[i + 1]->type() == "maxpool2d") {
      std::swap(layers_[i], layers_[i + 1]);
      ++i;
    }
  }
  runs_.assign(layers_.size(), Runs::kAlone);
  for (std::size_t i = 1; reorder_relu_maxpool_ && i < layers_.size(); ++i) {
    auto* pool = dynamic_cast<MaxPool2D*>(layers_[i - 1].get());
    if (pool && layers_[i]->type() == "relu") {
      pool->fuse_relu(true);
      runs_[i] = Runs::kReluInPool;
    }
  }
  Shape shape = input_shape_;
  std::vector<std::size_t> first_slot;  // per layer; one past the end closes the last layer
  for (auto& layer : layers_) {
    first_slot.push_back(arena_.slots().size());
    shape = layer->setup(shape, arena_);
    if (shape.numel() == 0) {
      throw ModelError("layer '" + layer->name() + "' (" + layer->type() +
                       ") produces an empty output " + shape.to_string());
    }
    layer_output_shapes_.push_back(shape);
  }
  output_shape_ = shape;
  arena_.finalize();
  first_slot.push_back(arena_.slots().size());
  const auto& slots = arena_.slots();
  auto offset_of = [&](std::size_t slot) {
    return slot < slots.size() ? slots[slot].offset : arena_.arena_size();
  };
  first_param_layer_ = layers_.size();
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const bool has_params = first_slot[i + 1] > first_slot[i];
    if (has_params && first_param_layer_ == layers_.size()) first_param_layer_ = i;
    layer_params_.push_back(
        has_params ? LayerParamRange{offset_of(first_slot[i]), offset_of(first_slot[i + 1])}
                   : LayerParamRange{});
  }
  // After setup: whether the conv runs in the small-K kernels depends on its input shape.
  for (std::size_t i = 1; reorder_relu_maxpool_ && i < layers_.size(); ++i) {
    const auto* conv = dynamic_cast<const Conv2D*>(layers_[i - 1].get());
    const auto* pool = dynamic_cast<const MaxPool2D*>(layers_[i].get());
    if (conv && pool && runs_[i - 1] == Runs::kAlone && ConvMaxPool::fusable(*conv, *pool)) {
      runs_[i] = Runs::kPoolInConv;
    }
  }
  outputs_.resize(layers_.size());
  grads_.resize(layers_.size());
  built_ = true;
}

void Sequential::init_params(std::uint64_t seed) {
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    Rng rng(derive_seed(seed, 0x1A7E5, i));
    layers_[i]->init_params(rng);
  }
}

const Tensor& Sequential::forward(const Tensor& x, const ForwardContext& ctx) {
  if (x.shape().sample() != input_shape_) {
    throw std::invalid_argument("model '" + name_ + "' expects samples of shape " +
                                input_shape_.to_string() + ", got " + x.shape().to_string());
  }
  const Tensor* in = &x;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    TimelineSpan span(timeline_, Timeline::kMain, "forward " + name_ + "." + layers_[i]->name(),
                      "forward");
    const auto begin = pass_observer_ ? Clock::now() : Clock::time_point();
    if (i + 1 < layers_.size() && runs_[i + 1] == Runs::kPoolInConv) {
      ConvMaxPool::forward(static_cast<Conv2D&>(*layers_[i]),
                           static_cast<MaxPool2D&>(*layers_[i + 1]), *in, outputs_[i + 1]);
    } else if (runs_[i] == Runs::kReluInPool) {
      outputs_[i].view_of(*in, in->shape());  // the pool before it already applied it
    } else if (runs_[i] == Runs::kAlone) {
      layers_[i]->forward(*in, outputs_[i], ctx);
    }
    if (pass_observer_) {
      pass_observer_({i, Pass::kForward, x.shape()[0], false, seconds_since(begin)});
    }
    in = &outputs_[i];
  }
  return outputs_.back();
}

void Sequential::backward(const Tensor& x, const Tensor& dloss, bool need_input_grad,
                          const ParamGradsFinal* grads_final) {
  const std::size_t n = layers_.size();
  const Tensor* dy = &dloss;
  // Without need_input_grad, nothing before the first layer with parameters needs a
  // gradient: that layer computes no input gradient (the mlp's fc1 skips a third of its
  // FLOPs, as PyTorch does for an input that needs no grad), and the parameter-free layers
  // in front of it (flatten, reshape) do not run backward at all.
  const auto needs_dx = [&](std::size_t i) { return need_input_grad || i > first_param_layer_; };
  for (std::size_t i = n; i-- > 0;) {
    const Tensor& in = i == 0 ? x : outputs_[i - 1];
    Tensor* dx = !needs_dx(i) ? nullptr : i == 0 ? &input_grad_ : &grads_[i - 1];
    const bool runs = need_input_grad || i >= first_param_layer_;
    {
      TimelineSpan span(timeline_, Timeline::kMain, "backward " + name_ + "." + layers_[i]->name(),
                        "backward");
      const auto begin = pass_observer_ ? Clock::now() : Clock::time_point();
      // An absorbed layer passes dy on unchanged: the layer before it runs its backward.
      if (!runs) {
        // no gradient flows here: see needs_dx
      } else if (i + 1 < n && runs_[i + 1] == Runs::kPoolInConv) {
        ConvMaxPool::backward(static_cast<Conv2D&>(*layers_[i]),
                              static_cast<MaxPool2D&>(*layers_[i + 1]), in, *dy, dx, grads_[i]);
      } else if (runs_[i] == Runs::kAlone) {
        layers_[i]->backward(in, outputs_[i], *dy, dx);
      }
      if (pass_observer_) {
        pass_observer_({i, Pass::kBackward, x.shape()[0], dx != nullptr, seconds_since(begin)});
      }
    }
    if (grads_final && *grads_final) (*grads_final)(i);
    if (i > 0 && runs_[i] == Runs::kAlone) dy = &grads_[i - 1];
  }
}

double Sequential::forward_flops_per_sample() const {
  double flops = 0.0;
  for (const auto& layer : layers_) flops += layer->forward_flops_per_sample();
  return flops;
}

std::string Sequential::summary() const {
  std::ostringstream out;
  out << "model " << name_ << ": input " << input_shape_.to_string() << "\n";
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    std::size_t params = 0;
    for (const auto& slot : arena_.slots()) {
      if (slot.name.rfind(layers_[i]->name() + ".", 0) == 0) params += slot.size;
    }
    out << "  " << layers_[i]->name() << " (" << layers_[i]->type() << ") -> "
        << layer_output_shapes_[i].to_string() << ", " << params << " parameters\n";
  }
  out << "  total " << arena_.num_params() << " parameters";
  return out.str();
}

}  // namespace dtrain::nn
