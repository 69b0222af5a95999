// Where a training step of a built-in model spends its time: median milliseconds per layer,
// forward and backward, plus loss, optimizer and gradient zeroing, on one rank and one
// BLAS thread. Usage: step_profile [model] [batch] [iterations]   (default cnn 128 50)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/model_registry.h"
#include "core/rng.h"
#include "nn/loss.h"
#include "nn/model_config.h"
#include "optim/optimizer.h"
#include "tensor/blas.h"

using namespace dtrain;
using Clock = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string model_name = argc > 1 ? argv[1] : "cnn";
  const std::size_t batch = argc > 2 ? std::stoul(argv[2]) : 128;
  const int iters = argc > 3 ? std::stoi(argv[3]) : 50;
  tensor::set_blas_threads(1);
  auto model = nn::build_model(cli::load_model_config(model_name));
  model->init_params(0);
  auto optimizer = optim::make_optimizer({.kind = "adam"}, model->arena().arena_size());

  tensor::Tensor x(model->input_shape().with_batch(batch));
  Rng rng(1);
  for (std::size_t i = 0; i < x.numel(); ++i) x[i] = rng.uniform();
  std::vector<std::int32_t> labels(batch);
  for (auto& l : labels) l = static_cast<std::int32_t>(rng.below(model->output_shape()[0]));

  const std::size_t n = model->num_layers();
  std::vector<std::vector<double>> fwd(n), bwd(n);
  std::vector<double> loss_ms, opt_ms, zero_ms, step_ms;
  std::vector<tensor::Tensor> outs(n), grads(n);
  tensor::Tensor dlogits;
  for (int it = 0; it < iters + 3; ++it) {
    const bool record = it >= 3;  // the first steps allocate buffers and fault pages in
    const auto step_start = Clock::now();
    auto t = Clock::now();
    model->arena().zero_grads();
    if (record) zero_ms.push_back(ms_since(t));
    // Drive the layers one by one (what Sequential does) to time each.
    const tensor::Tensor* in = &x;
    for (std::size_t i = 0; i < n; ++i) {
      t = Clock::now();
      const_cast<nn::Layer&>(model->layer(i)).forward(*in, outs[i], {.training = true});
      if (record) fwd[i].push_back(ms_since(t));
      in = &outs[i];
    }
    t = Clock::now();
    nn::softmax_cross_entropy(outs[n - 1], labels, double(batch), &dlogits);
    if (record) loss_ms.push_back(ms_since(t));
    const tensor::Tensor* dy = &dlogits;
    for (std::size_t i = n; i-- > 0;) {
      t = Clock::now();
      const_cast<nn::Layer&>(model->layer(i))
          .backward(i == 0 ? x : outs[i - 1], outs[i], *dy, i == 0 ? nullptr : &grads[i - 1]);
      if (record) bwd[i].push_back(ms_since(t));
      if (i > 0) dy = &grads[i - 1];
    }
    t = Clock::now();
    optimizer->step(model->arena().params(), model->arena().grads(), 1e-3f);
    if (record) opt_ms.push_back(ms_since(t));
    if (record) step_ms.push_back(ms_since(step_start));
  }
  std::printf("model %s, batch %zu, %d iterations, 1 BLAS thread (median ms)\n", model_name.c_str(),
              batch, iters);
  std::printf("%-12s %-10s %9s %9s\n", "layer", "type", "forward", "backward");
  for (std::size_t i = 0; i < n; ++i) {
    std::printf("%-12s %-10s %9.3f %9.3f\n", model->layer(i).name().c_str(),
                model->layer(i).type().c_str(), median(fwd[i]), median(bwd[i]));
  }
  std::printf("%-23s %9.3f\n%-23s %9.3f\n%-23s %9.3f\n", "loss (softmax+CE)", median(loss_ms),
              "optimizer (adam)", median(opt_ms), "zero gradients", median(zero_ms));
  const double step = median(step_ms);
  std::printf("%-23s %9.3f  => %.0f samples/s\n", "whole step", step, 1000.0 * batch / step);
  return 0;
}
