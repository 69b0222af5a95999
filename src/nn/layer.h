#pragma once
// The layer contract (after Caffe): setup declares parameters and fixes the output shape;
// forward writes the output; backward ADDS into parameter gradients (the model zeroes them
// once per step) and OVERWRITES the input gradient when one is asked for.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/rng.h"
#include "nn/param_arena.h"
#include "tensor/blas.h"
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

enum class Pass { kForward, kBackward };

// One matrix product a layer runs in a forward or backward pass: its FLOPs (2*M*N*K) and,
// for `dtrain bench step`, the shape whose sgemm rate is the layer's roofline. `calls`
// counts identical products in one pass (a recurrence's per-step GEMMs). `via_blas` false:
// a direct kernel computes the same product instead of sgemm (tensor/small_k.h).
struct MatrixProduct {
  Pass pass = Pass::kForward;
  std::string role;  // "forward", "weight grad", "input grad", "recurrence", ...
  tensor::GemmShape shape;
  int calls = 1;
  bool via_blas = true;
  double flops() const { return calls * shape.flops(); }
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

  // The matrix products of one forward pass and one backward pass over `batch` samples,
  // exactly as forward() and backward() run them (input_grad: backward was asked for dx).
  // Elementwise work (bias, activations, pooling, normalization) is not listed: layers
  // without matrix products return none. Written next to the code that runs the GEMMs,
  // and tests compare it with the calls a tensor::GemmRecorder sees.
  virtual std::vector<MatrixProduct> matrix_products(std::size_t /*batch*/,
                                                     bool /*input_grad*/) const {
    return {};
  }
  // FLOPs of one forward pass per sample: its matrix products at batch 1.
  double forward_flops_per_sample() const;

 protected:
  ModelError shape_error(const std::string& what) const;

 private:
  std::string name_;
};

}  // namespace dtrain::nn
