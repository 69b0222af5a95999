// batchnorm: forward values by hand (batch statistics, running statistics, evaluation),
// finite-difference gradients for images and flat inputs, the synchronized form over
// in-process ranks against one process holding the whole batch, and bad options.
#include <gtest/gtest.h>

#include <cmath>

#include "core/errors.h"
#include "nn/batchnorm.h"
#include "nn/model_config.h"
#include "optim/optimizer.h"
#include "testing/gradient_check.h"
#include "testing/in_process_communicator.h"

namespace dtrain::nn {
namespace {

using tensor::Tensor;
using testing::expect_gradients_match;
using testing::fill_uniform;

void fill_uniform(std::span<float> v, std::uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  Rng rng(seed);
  for (float& f : v) f = rng.uniform(lo, hi);
}

std::unique_ptr<Sequential> make(int h, int w, int c, std::vector<LayerConfig> layers) {
  ModelConfig config{"test", h, w, c, std::move(layers)};
  auto model = build_model(config);
  model->init_params(1);
  return model;
}

// Slots of the first layer with parameters: weight, bias, running_mean, running_var.
std::span<float> slot(Sequential& m, const std::string& name) {
  const auto& slots = m.arena().slots();
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (slots[i].name == name) return m.arena().param(i);
  }
  ADD_FAILURE() << "no slot " << name;
  return {};
}

TEST(BatchNorm, TrainingForwardUsesBatchStatisticsAndMovesRunningOnes) {
  // Two features over a batch of 4: feature 0 is 1, 2, 3, 4 (mean 2.5, variance 1.25),
  // feature 1 is 0, 0, 0, 4 (mean 1, variance 3).
  auto m = make(1, 1, 2, {{.type = "flatten"}, {.type = "batchnorm", .name = "bn"}});
  auto gamma = slot(*m, "bn.weight");
  auto beta = slot(*m, "bn.bias");
  gamma[0] = 2.0f, gamma[1] = 0.5f, beta[0] = 0.1f, beta[1] = -1.0f;
  Tensor x(Shape{4, 1, 1, 2});
  const float f0[] = {1, 2, 3, 4}, f1[] = {0, 0, 0, 4};
  for (int i = 0; i < 4; ++i) x[2 * i] = f0[i], x[2 * i + 1] = f1[i];
  const Tensor& y = m->forward(x, {.training = true});
  const double eps = BatchNorm::kDefaultEpsilon;
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(y[2 * i], 2.0 * (f0[i] - 2.5) / std::sqrt(1.25 + eps) + 0.1, 1e-6);
    EXPECT_NEAR(y[2 * i + 1], 0.5 * (f1[i] - 1.0) / std::sqrt(3.0 + eps) - 1.0, 1e-6);
  }
  // ONNX's momentum 0.9: running = 0.9 running + 0.1 batch, from mean 0 and variance 1.
  EXPECT_FLOAT_EQ(slot(*m, "bn.running_mean")[0], 0.25f);
  EXPECT_FLOAT_EQ(slot(*m, "bn.running_mean")[1], 0.1f);
  EXPECT_FLOAT_EQ(slot(*m, "bn.running_var")[0], 0.9f + 0.125f);
  EXPECT_FLOAT_EQ(slot(*m, "bn.running_var")[1], 0.9f + 0.3f);
}

TEST(BatchNorm, EvaluationUsesRunningStatisticsPerChannel) {
  // A 1x2 image with 2 channels: channel c of every pixel uses running mean/var of c.
  auto m = make(1, 2, 2, {{.type = "batchnorm", .name = "bn", .momentum = 0.5f, .epsilon = 0.01f}});
  slot(*m, "bn.running_mean")[0] = 1.0f, slot(*m, "bn.running_mean")[1] = -2.0f;
  slot(*m, "bn.running_var")[0] = 4.0f, slot(*m, "bn.running_var")[1] = 0.25f;
  slot(*m, "bn.bias")[1] = 3.0f;
  Tensor x(Shape{1, 1, 2, 2});
  x[0] = 3, x[1] = -1, x[2] = 5, x[3] = -2;
  const Tensor& y = m->forward(x, {.training = false});
  EXPECT_NEAR(y[0], (3 - 1.0) / std::sqrt(4.01), 1e-6);
  EXPECT_NEAR(y[1], (-1 + 2.0) / std::sqrt(0.26) + 3.0, 1e-5);
  EXPECT_NEAR(y[2], (5 - 1.0) / std::sqrt(4.01), 1e-6);
  EXPECT_NEAR(y[3], 3.0, 1e-6);
  // Evaluation leaves the running statistics alone.
  EXPECT_EQ(slot(*m, "bn.running_mean")[0], 1.0f);
  EXPECT_EQ(slot(*m, "bn.running_var")[1], 0.25f);
}

TEST(BatchNorm, GradientCheckImagesPerChannel) {
  auto m =
      make(3, 3, 2,
           {{.type = "conv2d", .filters = 3, .kernel = 2}, {.type = "batchnorm", .name = "bn"}});
  fill_uniform(slot(*m, "bn.weight"), 5, 0.5f, 1.5f);
  fill_uniform(slot(*m, "bn.bias"), 6);
  Tensor x(m->input_shape().with_batch(4));
  fill_uniform(x, 7);
  expect_gradients_match(*m, x);
}

TEST(BatchNorm, GradientCheckFlatFeatures) {
  auto m = make(
      1, 1, 5,
      {{.type = "flatten"}, {.type = "batchnorm", .name = "bn"}, {.type = "dense", .units = 3}});
  fill_uniform(slot(*m, "bn.weight"), 8, 0.5f, 1.5f);
  Tensor x(m->input_shape().with_batch(6));
  fill_uniform(x, 9);
  expect_gradients_match(*m, x);
}

TEST(BatchNorm, EvaluationBackwardTreatsStatisticsAsConstants) {
  auto m = make(1, 1, 1, {{.type = "flatten"}, {.type = "batchnorm", .name = "bn"}});
  slot(*m, "bn.weight")[0] = 3.0f;
  slot(*m, "bn.running_var")[0] = 4.0f;
  Tensor x(Shape{2, 1, 1, 1});
  x[0] = 1, x[1] = 5;
  m->forward(x, {.training = false});
  Tensor dy(Shape{2, 1});
  dy[0] = 1, dy[1] = -2;
  m->arena().zero_grads();
  m->backward(x, dy, true);
  const double s = 3.0 / std::sqrt(4.0 + BatchNorm::kDefaultEpsilon);
  EXPECT_NEAR(m->input_grad()[0], s, 1e-6);
  EXPECT_NEAR(m->input_grad()[1], -2 * s, 1e-6);
}

// The reducer a trainer gives layers, over an in-process rank.
class CommStats final : public BatchStatsReducer {
 public:
  explicit CommStats(comm::Communicator& c) : c_(c) {}
  void sum(std::span<double> v) override { c_.allreduce_sum(v); }

 private:
  comm::Communicator& c_;
};

// Each of P in-process ranks holds a slice of one batch of 7 images (uneven slices);
// returns rank r's output and input gradient, and the summed parameter gradients.
struct Pass {
  std::vector<float> y, dx, grads;
};
Pass run(bool sync, int ranks, int rank, comm::Communicator* comm, const Tensor& x_all,
         const Tensor& dy_all) {
  auto m = make(2, 2, 3, {{.type = "batchnorm", .name = "bn", .sync = sync}});
  fill_uniform(slot(*m, "bn.weight"), 3, 0.5f, 1.5f);
  const std::size_t n = x_all.shape()[0], per = 12;
  const std::size_t begin = n * rank / ranks, end = n * (rank + 1) / ranks;
  Tensor x(m->input_shape().with_batch(end - begin)), dy(x.shape());
  std::copy(x_all.data() + begin * per, x_all.data() + end * per, x.data());
  std::copy(dy_all.data() + begin * per, dy_all.data() + end * per, dy.data());
  CommStats stats(*comm);
  const Tensor& y = m->forward(x, {.training = true, .batch_stats = comm ? &stats : nullptr});
  Pass p{{y.data(), y.data() + y.numel()}, {}, {}};
  m->arena().zero_grads();
  m->backward(x, dy, true);
  p.dx.assign(m->input_grad().data(), m->input_grad().data() + m->input_grad().numel());
  const auto g = m->arena().grads();
  std::vector<float> grads(g.begin(), g.end());
  comm->allreduce_sum(std::span<float>(grads));
  p.grads = grads;
  const auto params = m->arena().params();
  p.grads.insert(p.grads.end(), params.begin(), params.end());  // running statistics too
  return p;
}

TEST(BatchNorm, SynchronizedOverRanksMatchesOneProcessWithTheWholeBatch) {
  Tensor x(Shape{7, 2, 2, 3}), dy(x.shape());
  fill_uniform(x, 21, -2.0f, 3.0f);
  fill_uniform(dy, 22);
  Pass whole;
  test::run_communicator_ranks(1,
                               [&](comm::Communicator& c) { whole = run(true, 1, 0, &c, x, dy); });
  for (const int ranks : {2, 3}) {
    std::vector<Pass> parts(ranks), local(ranks);
    test::run_communicator_ranks(ranks, [&](comm::Communicator& c) {
      parts[c.rank()] = run(true, ranks, c.rank(), &c, x, dy);
      local[c.rank()] = run(false, ranks, c.rank(), &c, x, dy);
    });
    std::vector<float> y, dx, y_local;
    for (const auto& p : parts) {
      y.insert(y.end(), p.y.begin(), p.y.end());
      dx.insert(dx.end(), p.dx.begin(), p.dx.end());
    }
    for (const auto& p : local) y_local.insert(y_local.end(), p.y.begin(), p.y.end());
    ASSERT_EQ(y.size(), whole.y.size());
    double worst_local = 0.0;
    for (std::size_t i = 0; i < y.size(); ++i) {
      EXPECT_NEAR(y[i], whole.y[i], 1e-5) << "output " << i << " at P=" << ranks;
      EXPECT_NEAR(dx[i], whole.dx[i], 1e-5) << "input gradient " << i << " at P=" << ranks;
      worst_local = std::max(worst_local, double(std::abs(y_local[i] - whole.y[i])));
    }
    // Summed parameter gradients and the running statistics match the whole batch when
    // synced; unsynced, the running statistics still follow the global batch, so every
    // rank holds the same bits.
    for (std::size_t i = 0; i < whole.grads.size(); ++i) {
      EXPECT_NEAR(parts[0].grads[i], whole.grads[i], 1e-5) << i << " at P=" << ranks;
    }
    for (int r = 1; r < ranks; ++r) {
      EXPECT_EQ(parts[r].grads, parts[0].grads) << "rank " << r;
      EXPECT_EQ(local[r].grads, local[0].grads) << "rank " << r;
    }
    // Unsynced, every rank normalizes with its own slice: visibly different outputs.
    EXPECT_GT(worst_local, 1e-2) << "P=" << ranks;
  }
}

TEST(BatchNorm, RunningStatisticsAreLeftAloneByEveryOptimizer) {
  // They sit in the arena with a gradient that is always zero; an update must not move
  // them by a single bit (Adam: m = v = 0 gives 0 / (0 + eps) = 0).
  for (const char* kind : {"sgd", "momentum", "adam"}) {
    std::vector<float> params = {0.3f, -7.25f, 1e-20f}, grads(3, 0.0f);
    const auto before = params;
    auto opt = optim::make_optimizer({.kind = kind}, params.size());
    for (int i = 0; i < 3; ++i) opt->step(params, grads, 0.1f);
    EXPECT_EQ(params, before) << kind;
  }
}

TEST(BatchNorm, BadOptionsNameTheLayer) {
  for (const LayerConfig& bad :
       {LayerConfig{.type = "batchnorm", .name = "bn", .momentum = 1.5f},
        LayerConfig{.type = "batchnorm", .name = "bn", .momentum = -0.1f},
        LayerConfig{.type = "batchnorm", .name = "bn", .epsilon = -1e-3f}}) {
    ModelConfig config{"test", 2, 2, 1, {bad}};
    try {
      build_model(config);
      ADD_FAILURE() << "accepted momentum " << bad.momentum << " epsilon " << bad.epsilon;
    } catch (const ModelError& e) {
      EXPECT_NE(std::string(e.what()).find("'bn'"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace dtrain::nn
