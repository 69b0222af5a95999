#pragma once
// Optimizers over the flat parameter array. State (momentum, Adam's m and v) has the
// arena's layout, so an update is one loop and a checkpoint stores a few flat arrays.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace dtrain::optim {

struct OptimizerConfig {
  std::string kind = "adam";  // sgd | momentum | adam | adamw
  float momentum = 0.9f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float epsilon = 1e-7f;
  float weight_decay = 0.0f;  // adamw: decoupled decay per unit of learning rate
};

// A range of arena offsets [begin, end): the slots AdamW decays (optim/weight_decay.h).
struct ParamRange {
  std::size_t begin = 0, end = 0;
};

struct StateArray {
  std::string name;  // "velocity", "m", "v"
  std::vector<float> values;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string kind() const = 0;
  // One update with learning rate lr; counts the step (Adam's bias correction uses it).
  virtual void step(std::span<float> params, std::span<const float> grads, float lr) = 0;

  std::int64_t steps() const { return steps_; }
  void set_steps(std::int64_t steps) { steps_ = steps; }
  std::vector<StateArray>& state() { return state_; }
  const std::vector<StateArray>& state() const { return state_; }

 protected:
  std::int64_t steps_ = 0;
  std::vector<StateArray> state_;
};

// W <- W - lr * dL/dW
class Sgd final : public Optimizer {
 public:
  std::string kind() const override { return "sgd"; }
  void step(std::span<float> params, std::span<const float> grads, float lr) override;
};

// v <- mu * v + g; W <- W - lr * v (PyTorch's formulation, no dampening).
class Momentum final : public Optimizer {
 public:
  Momentum(std::size_t size, float momentum);
  std::string kind() const override { return "momentum"; }
  void step(std::span<float> params, std::span<const float> grads, float lr) override;
  float momentum() const { return momentum_; }

 private:
  float momentum_;
};

// Adam with bias correction advanced once per step:
// m <- b1 m + (1-b1) g; v <- b2 v + (1-b2) g^2; W <- W - lr * m_hat / (sqrt(v_hat) + eps).
class Adam : public Optimizer {
 public:
  Adam(std::size_t size, float beta1, float beta2, float epsilon);
  std::string kind() const override { return "adam"; }
  void step(std::span<float> params, std::span<const float> grads, float lr) override;

 protected:
  // The Adam update; first, inside the same loop's chunks, W <- W * (1 - lr * wd) on the
  // `decayed` ranges (AdamW: Loshchilov & Hutter's decoupled decay, PyTorch's order).
  void adam_step(std::span<float> params, std::span<const float> grads, float lr, float wd,
                 const std::vector<ParamRange>& decayed);

 private:
  float beta1_, beta2_, epsilon_;
};

// Adam with decoupled weight decay on the ranges given (weight matrices; not biases,
// normalization parameters or embeddings: see optim/weight_decay.h).
class AdamW final : public Adam {
 public:
  AdamW(std::size_t size, float beta1, float beta2, float epsilon, float weight_decay,
        std::vector<ParamRange> decayed);
  std::string kind() const override { return "adamw"; }
  void step(std::span<float> params, std::span<const float> grads, float lr) override;
  float weight_decay() const { return weight_decay_; }
  const std::vector<ParamRange>& decayed() const { return decayed_; }

 private:
  float weight_decay_;
  std::vector<ParamRange> decayed_;
};

// Throws ConfigError naming --optimizer for an unknown kind. decayed: AdamW's ranges.
std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config, std::size_t size,
                                          std::vector<ParamRange> decayed = {});

}  // namespace dtrain::optim
