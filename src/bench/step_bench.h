#pragma once
// `dtrain bench step`: where one training step of a model spends its time in one process,
// layer by layer, and how far the step is from the sgemm roofline of its own matrix
// products.
//
// The step is the task's own train_step (train/task.h: the same loss, the same GAN order of
// passes) on synthetic data of the task's kind, with the optimizer applied where the trainer
// applies it and no communication. Sequential's pass observer times every layer pass and
// says which batch it ran on, so a layer's FLOPs per step are its Layer::matrix_products
// summed over the passes it really made (a GAN's discriminator runs three of each).
//
// Roofline: every distinct matrix-product shape of the step is timed through sgemm on its
// own, in this process with the same BLAS threads; the roofline step time is the sum over
// the step's products of their measured sgemm time, i.e. the step if it did nothing but its
// matrix products at the rate sgemm reaches on those shapes. Products a direct kernel runs
// (tensor/small_k.h) count as sgemm would run them: the roofline is a property of the
// model's FLOPs and this machine's sgemm, not of how dtrain chooses to compute them, so a
// direct kernel that beats sgemm raises the fraction. Everything else (im2col, activations,
// pooling, the loss, the optimizer) adds nothing to it. The fraction roofline time /
// measured step time is 1 for a step that is all matrix products at sgemm speed.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nn/model_config.h"
#include "tensor/blas.h"

namespace dtrain::bench {

struct StepBenchOptions {
  std::size_t batch = 128;
  int iterations = 20;  // timed steps (medians over them)
  int warmup = 3;       // untimed steps first (buffers grow, pages fault in)
  std::uint64_t seed = 0;
};

// One layer's part of a step: sums over its passes in the step, medians over the steps.
struct LayerStepFigures {
  std::string network;  // the task's role: "model", "generator", "discriminator"
  std::string name, type;
  int forward_passes = 0, backward_passes = 0;  // per step
  double forward_ms = 0.0, backward_ms = 0.0;
  double forward_flops = 0.0, backward_flops = 0.0;  // matrix products only
  double sgemm_ms = 0.0;                             // its products at sgemm's rate
  bool has_products = false;                         // any matrix product at all
  std::vector<std::string> direct_roles;             // products not run through sgemm
  double ms() const { return forward_ms + backward_ms; }
  double flops() const { return forward_flops + backward_flops; }
};

// One distinct GEMM shape of the step.
struct GemmShapeFigures {
  tensor::GemmShape shape;
  bool via_blas = true;  // false: a direct kernel computes it (timed here as sgemm anyway)
  int calls = 0;         // per step
  std::vector<std::string> used_by;  // "fc1 forward", "discriminator.conv2 input grad"
  double sgemm_us = 0.0;             // median of one sgemm call on this shape
  double sgemm_gflops = 0.0;
};

struct StepBenchResult {
  std::string model, task;
  std::size_t batch = 0;
  int iterations = 0, warmup = 0, threads = 0;
  std::string optimizer;
  std::vector<std::string> notes;  // what the figures include and leave out, for this model
  std::vector<LayerStepFigures> layers;
  std::vector<GemmShapeFigures> gemms;
  double zero_grad_ms = 0.0, optimizer_ms = 0.0, step_ms = 0.0;
  // The rest of the step (the loss, the task's glue such as a GAN's noise): per step, the
  // step minus its layer passes, optimizer steps and zeroing; the median over the steps.
  double other_ms = 0.0;
  double roofline_ms = 0.0;             // the step's matrix products at sgemm's rate
  double direct_at_sgemm_ms = 0.0;      // the direct kernels' part of roofline_ms
  std::size_t recorded_gemm_calls = 0;  // what a GemmRecorder saw in one step
  std::size_t declared_gemm_calls = 0;  // what the layers' matrix_products say
  bool gemm_census_matches = false;     // and the two agree shape by shape

  double layers_ms() const;
  double step_flops() const;
  double samples_per_s() const { return step_ms > 0 ? 1e3 * double(batch) / step_ms : 0.0; }
  double roofline_samples_per_s() const {
    return roofline_ms > 0 ? 1e3 * double(batch) / roofline_ms : 0.0;
  }
  double roofline_fraction() const { return step_ms > 0 ? roofline_ms / step_ms : 0.0; }
};

// Builds the spec's networks and task, runs warmup + 1 + iterations steps (the extra one
// records GEMM calls and counts FLOPs, untimed) and times sgemm on the step's shapes, all
// with the BLAS threads already set. A language model without a vocabulary gets a synthetic
// one of 96 symbols. Throws ModelError for a spec that does not build.
StepBenchResult run_step_bench(nn::ModelConfig spec, const StepBenchOptions& options);

// Every figure above, plus cpu (its model name from /proc/cpuinfo), blas (the OpenBLAS build)
// and load_average (the 1, 5 and 15 minute figures of /proc/loadavg).
nlohmann::json step_bench_json(const StepBenchResult& result);
std::string cpu_model_name();
std::vector<double> load_average();

}  // namespace dtrain::bench
