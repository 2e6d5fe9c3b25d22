#include "train/early_stopping.h"

#include <gtest/gtest.h>

#include <limits>

namespace genolm::train {
namespace {

TEST(EarlyStopping, ARunAtTheClassPriorWhoseLossStillFallsKeepsGoing) {
  TrainingState state;
  // MCC 0 every epoch (no better metric), loss falling: the run is learning, not stuck.
  for (const double loss : {0.52, 0.51, 0.49, 0.45, 0.40}) {
    const auto progress = record_valid_epoch(state, /*metric_improved=*/false, loss);
    EXPECT_TRUE(progress.loss_fell);
    EXPECT_FALSE(patience_exhausted(state, 2));
  }
  EXPECT_EQ(state.lowest_valid_loss, std::optional<double>(0.40));
  // Then neither improves for two epochs: patience 2 is spent, patience 3 is not.
  record_valid_epoch(state, false, 0.41);
  record_valid_epoch(state, false, 0.40);  // equal is not lower
  EXPECT_EQ(state.without_improvement, 2);
  EXPECT_TRUE(patience_exhausted(state, 2));
  EXPECT_FALSE(patience_exhausted(state, 3));
  EXPECT_FALSE(patience_exhausted(state, 0));  // 0: never stop early
}

TEST(EarlyStopping, ABetterMetricResetsPatienceWhileTheLossRises) {
  TrainingState state;
  record_valid_epoch(state, true, 0.30);
  record_valid_epoch(state, false, 0.35);
  EXPECT_EQ(state.without_improvement, 1);
  const auto progress = record_valid_epoch(state, true, 0.38);  // overfits, yet classifies better
  EXPECT_TRUE(progress.metric_improved);
  EXPECT_FALSE(progress.loss_fell);
  EXPECT_EQ(state.without_improvement, 0);
  EXPECT_EQ(state.lowest_valid_loss, std::optional<double>(0.30));
}

TEST(EarlyStopping, ALossThatIsNotFiniteIsNoProgress) {
  TrainingState state;
  record_valid_epoch(state, false, std::numeric_limits<double>::quiet_NaN());
  record_valid_epoch(state, false, std::numeric_limits<double>::infinity());
  EXPECT_FALSE(state.lowest_valid_loss.has_value());
  EXPECT_EQ(state.without_improvement, 2);
}

}  // namespace
}  // namespace genolm::train
