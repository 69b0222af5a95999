// The steps a run really takes, which the progress bar and the epoch lines count.
#include <gtest/gtest.h>

#include "train/progress.h"

namespace dtrain::train {
namespace {

TEST(RunPlan, WithoutALimitEveryEpochRunsAllItsSteps) {
  const RunPlan p{.epochs = 3, .steps_per_epoch = 429};
  EXPECT_EQ(p.last_epoch(), 3);
  for (int e = 1; e <= 3; ++e) EXPECT_EQ(p.end_step(e), 429);
}

TEST(RunPlan, MaxStepsEndsTheRunInsideTheEpochHoldingTheLimit) {
  const RunPlan p{.epochs = 5, .steps_per_epoch = 429, .max_steps = 200};
  EXPECT_EQ(p.last_epoch(), 1);
  EXPECT_EQ(p.end_step(1), 200);
  const RunPlan q{.epochs = 5, .steps_per_epoch = 429, .max_steps = 1000};
  EXPECT_EQ(q.last_epoch(), 3);
  EXPECT_EQ(q.end_step(1), 429);
  EXPECT_EQ(q.end_step(2), 429);
  EXPECT_EQ(q.end_step(3), 1000 - 858);
  EXPECT_EQ(q.end_step(4), 0);
  const RunPlan exact{.epochs = 5, .steps_per_epoch = 100, .max_steps = 200};
  EXPECT_EQ(exact.last_epoch(), 2);
  EXPECT_EQ(exact.end_step(2), 100);
  const RunPlan beyond{.epochs = 2, .steps_per_epoch = 100, .max_steps = 10000};
  EXPECT_EQ(beyond.last_epoch(), 2);
  EXPECT_EQ(beyond.end_step(2), 100);
}

}  // namespace
}  // namespace dtrain::train
