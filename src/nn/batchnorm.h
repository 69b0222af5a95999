#pragma once
// Batch normalization (Ioffe & Szegedy 2015) over the last dimension: per channel for NHWC
// images [H, W, C] (statistics over batch, height and width), per feature for [F] (over the
// batch); any other per-sample shape normalizes its last dimension over all the rest.
//
//   training:   y = gamma * (x - mean_B) / sqrt(var_B + eps) + beta, with the batch's mean and
//               biased variance, and the running statistics moved toward them:
//               running = momentum * running + (1 - momentum) * batch   (ONNX's convention:
//               momentum is the weight of the old value, 0.9 by default; PyTorch's 0.1 is
//               1 - ours)
//   evaluation: the same with the running mean and variance in place of the batch's.
//
// Data parallel (docs/design.md "Distributed semantics"): the batch is the GLOBAL batch split over ranks. sync: true is a
// SyncBatchNorm: forward sums (sum x, sum x^2, count) over ranks in one allreduce of 2C+1
// doubles and normalizes with the global statistics; backward sums (sum dy, sum dy*xhat) in
// a second of 2C doubles, so np=1 with batch B and np=P with batch B compute the same thing
// up to rounding. sync: false normalizes with this rank's part of the batch only (PyTorch
// DDP's BatchNorm). In both modes the running statistics follow the global batch (the same
// forward allreduce; DDP instead copies rank 0's each step), so every replica evaluates
// with the same statistics and a checkpoint holds the one set there is.
//
// The running statistics live in the parameter arena as slots the optimizer never moves:
// their gradient is always zero, and SGD, momentum and Adam leave a parameter with a zero
// gradient (and zero state) bitwise unchanged. So they are broadcast at start, checked
// across replicas and saved in checkpoints like any parameter, without a second array.
//
// Cost per step: two passes over the activations forward (sums, then normalize), two
// backward; the allreduces are latency-bound (a few hundred bytes), one per layer per
// forward and, synced, one per backward that needs the input gradient.
#include <vector>

#include "nn/layer.h"

namespace dtrain::nn {

class BatchNorm final : public Layer {
 public:
  static constexpr float kDefaultMomentum = 0.9f;
  static constexpr float kDefaultEpsilon = 1e-5f;

  BatchNorm(std::string name, float momentum, float epsilon, bool sync);
  std::string type() const override { return "batchnorm"; }
  Shape setup(const Shape& input, ParamArena& arena) override;
  // gamma 1, beta 0, running mean 0, running variance 1.
  void init_params(Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
  bool sync() const { return sync_; }
  float epsilon() const { return epsilon_; }

 private:
  // Per channel: the mean and 1/sqrt(var + eps) the last forward normalized with.
  void use_statistics(const std::vector<double>& mean, const std::vector<double>& var);

  float momentum_, epsilon_;
  bool sync_;
  int channels_ = 0;
  std::size_t per_sample_ = 0;  // values per sample
  ParamArena* arena_ = nullptr;
  std::size_t gamma_slot_ = 0, beta_slot_ = 0, mean_slot_ = 0, var_slot_ = 0;
  // The last forward's: whether it used batch statistics, their global count, the
  // normalized input, and the reducer backward sums with (synced training only).
  bool batch_mode_ = false;
  double count_ = 0.0;
  Tensor xhat_;
  std::vector<float> mean_, inv_std_;
  BatchStatsReducer* reducer_ = nullptr;
  std::vector<double> sums_, local_sums_;  // what the allreduces sum, and this rank's part
  std::vector<double> stat_scratch_[4];    // mean, var, global mean, global var
  std::vector<float> scale_;               // backward: gamma/sigma, mean dy, mean dy*xhat
};

}  // namespace dtrain::nn
