#pragma once
// The layer contract (after Caffe): setup declares parameters and fixes the output shape;
// forward writes the output; backward ADDS into parameter gradients (the model zeroes them
// once per step) and OVERWRITES the input gradient when one is asked for.
#include <cstdint>
#include <span>
#include <string>

#include "core/errors.h"
#include "core/rng.h"
#include "nn/param_arena.h"
#include "tensor/tensor.h"

namespace dtrain::nn {

using tensor::Tensor;

// Sums a few statistics over every rank's part of the global batch, in place, with the
// same result on every rank (a synchronized batchnorm's sums and counts). nn/ stays free of
// the transport: the trainer supplies one over its communicator. Collective: every rank
// calls it in the same order with the same length.
class BatchStatsReducer {
 public:
  virtual ~BatchStatsReducer() = default;
  virtual void sum(std::span<double> values) = 0;
};

struct ForwardContext {
  bool training = false;
  // Seeds layers that draw random numbers (dropout); differs per rank and step.
  std::uint64_t noise_seed = 0;
  // Null: this process holds the whole batch (one rank, evaluation, tests). Layers that
  // keep it must use it only until the matching backward returns.
  BatchStatsReducer* batch_stats = nullptr;
};

class Layer {
 public:
  explicit Layer(std::string name) : name_(std::move(name)) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  const std::string& name() const { return name_; }
  virtual std::string type() const = 0;

  // Declares parameters in the arena (kept for later access) and returns the per-sample
  // output shape for a per-sample input shape. Throws ModelError naming the layer when
  // the input shape does not fit.
  virtual Shape setup(const Shape& input, ParamArena& arena) = 0;
  // Draws initial parameters; layers without parameters do nothing.
  virtual void init_params(Rng& /*rng*/) {}

  // x: [batch, input...]; the layer resizes y to [batch, output...].
  virtual void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) = 0;
  // dx may be null when no input gradient is needed (the first layer).
  virtual void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) = 0;

  // Multiply-adds of one forward pass per sample (for FLOP figures in benchmarks).
  virtual double forward_flops_per_sample() const { return 0.0; }

 protected:
  ModelError shape_error(const std::string& what) const;

 private:
  std::string name_;
};

}  // namespace dtrain::nn
