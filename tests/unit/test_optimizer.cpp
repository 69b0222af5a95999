// Optimizer updates against values computed by hand from the update rules.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/errors.h"
#include "optim/lr_schedule.h"
#include "optim/optimizer.h"

namespace dtrain::optim {
namespace {

TEST(Sgd, StepIsMinusLrTimesGradient) {
  Sgd sgd;
  std::vector<float> p{1.0f, -2.0f, 0.5f};
  const std::vector<float> g{0.5f, -1.0f, 2.0f};
  sgd.step(p, g, 0.1f);
  EXPECT_FLOAT_EQ(p[0], 0.95f);
  EXPECT_FLOAT_EQ(p[1], -1.9f);
  EXPECT_FLOAT_EQ(p[2], 0.3f);
  EXPECT_EQ(sgd.steps(), 1);
}

TEST(Momentum, VelocityAccumulatesOverSteps) {
  Momentum opt(2, 0.9f);
  std::vector<float> p{1.0f, 1.0f};
  const std::vector<float> g1{1.0f, -2.0f}, g2{0.5f, 0.0f};
  opt.step(p, g1, 0.1f);  // v = g1; p = 1 - 0.1 * g1
  EXPECT_FLOAT_EQ(p[0], 0.9f);
  EXPECT_FLOAT_EQ(p[1], 1.2f);
  opt.step(p, g2, 0.1f);  // v = 0.9 * g1 + g2 = [1.4, -1.8]
  EXPECT_FLOAT_EQ(opt.state()[0].values[0], 1.4f);
  EXPECT_FLOAT_EQ(opt.state()[0].values[1], -1.8f);
  EXPECT_FLOAT_EQ(p[0], 0.9f - 0.14f);
  EXPECT_FLOAT_EQ(p[1], 1.2f + 0.18f);
}

TEST(Adam, MatchesTextbookUpdateWithBiasCorrectionOverSeveralSteps) {
  const float lr = 0.01f, b1 = 0.9f, b2 = 0.999f, eps = 1e-7f;
  Adam adam(3, b1, b2, eps);
  std::vector<float> p{0.5f, -0.3f, 2.0f};
  std::vector<double> ref(p.begin(), p.end()), m(3, 0.0), v(3, 0.0);
  const std::vector<std::vector<float>> grads{
      {0.1f, -0.2f, 0.0f}, {0.3f, 0.1f, -1.0f}, {-0.5f, 0.05f, 0.2f}, {0.2f, 0.2f, 0.2f}};
  for (std::size_t t = 1; t <= grads.size(); ++t) {
    adam.step(p, grads[t - 1], lr);
    for (int i = 0; i < 3; ++i) {
      const double g = grads[t - 1][i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      const double m_hat = m[i] / (1 - std::pow(b1, double(t)));
      const double v_hat = v[i] / (1 - std::pow(b2, double(t)));
      ref[i] -= lr * m_hat / (std::sqrt(v_hat) + eps);
    }
    for (int i = 0; i < 3; ++i) EXPECT_NEAR(p[i], ref[i], 1e-6) << "step " << t << " i " << i;
  }
  EXPECT_EQ(adam.steps(), 4);
}

TEST(Adam, FirstStepMovesByLearningRate) {
  Adam adam(2, 0.9f, 0.999f, 1e-7f);
  std::vector<float> p{0.0f, 0.0f};
  const std::vector<float> g{1e-3f, -50.0f};
  adam.step(p, g, 0.001f);
  EXPECT_NEAR(p[0], -0.001f, 1e-6);  // eps shaves 1e-4 relative off a gradient of 1e-3
  EXPECT_NEAR(p[1], 0.001f, 1e-9);
}

TEST(MakeOptimizer, UnknownKindNamesTheOption) {
  try {
    make_optimizer({.kind = "adagrad"}, 4);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--optimizer"), std::string::npos);
  }
  EXPECT_EQ(make_optimizer({.kind = "momentum"}, 4)->state().size(), 1u);
  EXPECT_EQ(make_optimizer({.kind = "adam"}, 4)->state().size(), 2u);
}

TEST(LrSchedule, LinearScalingAndWarmup) {
  LrSchedule plain(0.001f, false, 512, 0);
  EXPECT_FLOAT_EQ(plain.at(0), 0.001f);
  LrSchedule scaled(0.001f, true, 512, 4);
  EXPECT_FLOAT_EQ(scaled.target(), 0.004f);
  EXPECT_FLOAT_EQ(scaled.at(0), 0.001f);
  EXPECT_FLOAT_EQ(scaled.at(1), 0.002f);
  EXPECT_FLOAT_EQ(scaled.at(3), 0.004f);
  EXPECT_FLOAT_EQ(scaled.at(100), 0.004f);
}

}  // namespace
}  // namespace dtrain::optim
