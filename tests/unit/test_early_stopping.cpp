// --early-stopping's rule on scripted figures: patience counts epochs in a row without a
// strictly better figure, lower is better except for val_acc, and --monitor must be a
// figure the task reports.
#include <gtest/gtest.h>

#include "core/errors.h"
#include "train/early_stopping.h"

namespace dtrain::train {
namespace {

// The epoch (1-based) at which the rule stops on these figures; 0: it never does.
int stop_epoch(EarlyStopping& rule, const std::vector<double>& figures) {
  for (std::size_t e = 0; e < figures.size(); ++e) {
    rule.observe(static_cast<int>(e) + 1, static_cast<std::int64_t>(e + 1) * 10, figures[e]);
    if (rule.should_stop()) return static_cast<int>(e) + 1;
  }
  return 0;
}

TEST(EarlyStopping, StopsAfterPatienceEpochsWithoutImprovement) {
  EarlyStopping loss(2, "val_loss", "classify");
  // Best at epoch 3 (0.5); 4 and 5 are no better (equal is no improvement): stop at 5.
  EXPECT_EQ(stop_epoch(loss, {0.9, 0.7, 0.5, 0.6, 0.5, 0.1}), 5);
  EXPECT_EQ(loss.state().best_epoch, 3);
  EXPECT_DOUBLE_EQ(loss.state().best_score, 0.5);
  EXPECT_EQ(loss.state().best_step, 30);
  EXPECT_EQ(loss.state().epochs_without_improvement, 2);

  EarlyStopping acc(2, "val_acc", "classify");  // higher is better
  EXPECT_EQ(stop_epoch(acc, {0.5, 0.6, 0.55, 0.7, 0.6, 0.65, 0.9}), 6);
  EXPECT_EQ(acc.state().best_epoch, 4);

  EarlyStopping keep_best_only(0, "", "classify");  // --keep-best alone: tracks, never stops
  EXPECT_EQ(keep_best_only.monitor(), "val_loss");
  EXPECT_EQ(stop_epoch(keep_best_only, {1.0, 2.0, 3.0, 4.0}), 0);
  EXPECT_EQ(keep_best_only.state().best_epoch, 1);
}

TEST(EarlyStopping, RestoredStateContinuesTheCount) {
  EarlyStopping first(3, "val_loss", "classify");
  stop_epoch(first, {0.5, 0.6, 0.7});  // two epochs without improvement
  EarlyStopping resumed(3, "val_loss", "classify");
  resumed.restore(first.state());
  resumed.observe(4, 40, 0.8);
  EXPECT_TRUE(resumed.should_stop());
}

TEST(EarlyStopping, MonitorMustBeAFigureOfTheTask) {
  EXPECT_EQ(EarlyStopping(1, "", "reconstruct").monitor(), "val_mse");
  EXPECT_EQ(EarlyStopping(1, "val_bpc", "language_model").monitor(), "val_bpc");
  EXPECT_THROW(EarlyStopping(1, "val_acc", "reconstruct"), ConfigError);
  EXPECT_THROW(EarlyStopping(1, "", "gan"), ConfigError);
}

}  // namespace
}  // namespace dtrain::train
