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
  std::string kind = "adam";  // sgd | momentum | adam
  float momentum = 0.9f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float epsilon = 1e-7f;
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
class Adam final : public Optimizer {
 public:
  Adam(std::size_t size, float beta1, float beta2, float epsilon);
  std::string kind() const override { return "adam"; }
  void step(std::span<float> params, std::span<const float> grads, float lr) override;

 private:
  float beta1_, beta2_, epsilon_;
};

// Throws ConfigError naming --optimizer for an unknown kind.
std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config, std::size_t size);

}  // namespace dtrain::optim
