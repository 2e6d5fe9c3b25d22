#include "train/schedule.h"

#include <gtest/gtest.h>

#include "genolm/error.h"

namespace genolm::train {
namespace {

ScheduleOptions options(const std::string& kind) {
  ScheduleOptions o;
  o.kind = kind;
  o.lr = 1e-2;
  o.total_steps = 1000;
  return o;
}

TEST(Schedule, OneCycleRisesPeaksAndAnnealsWithMirroredMomentum) {
  const auto o = options("one_cycle");
  EXPECT_NEAR(schedule_at(o, 0).lr, 1e-2 / 25, 1e-12);
  EXPECT_NEAR(schedule_at(o, 0).beta1, 0.95, 1e-12);
  EXPECT_NEAR(schedule_at(o, 250).lr, 1e-2, 1e-12);  // the peak at pct_start
  EXPECT_NEAR(schedule_at(o, 250).beta1, 0.85, 1e-12);
  EXPECT_NEAR(schedule_at(o, 1000).lr, 1e-2 / 1e5, 1e-12);
  EXPECT_NEAR(schedule_at(o, 1000).beta1, 0.95, 1e-12);
  for (std::int64_t step = 1; step <= 250; ++step) {
    EXPECT_GE(schedule_at(o, step).lr, schedule_at(o, step - 1).lr);
  }
  for (std::int64_t step = 251; step <= 1000; ++step) {
    EXPECT_LE(schedule_at(o, step).lr, schedule_at(o, step - 1).lr);
  }
}

TEST(Schedule, SlantedTriangularMatchesUlmfit) {
  const auto o = options("slanted_triangular");
  EXPECT_NEAR(schedule_at(o, 0).lr, 1e-2 / 32, 1e-12);
  EXPECT_NEAR(schedule_at(o, 100).lr, 1e-2, 1e-12);  // cut at 10%
  EXPECT_NEAR(schedule_at(o, 1000).lr, 1e-2 / 32, 1e-12);
  EXPECT_NEAR(schedule_at(o, 50).lr, 1e-2 * (1 + 0.5 * 31) / 32, 1e-12);
}

TEST(Schedule, WarmupCosineAndConstant) {
  auto o = options("warmup_cosine");
  o.warmup = 0.1;
  EXPECT_NEAR(schedule_at(o, 50).lr, 0.5e-2, 1e-12);
  EXPECT_NEAR(schedule_at(o, 100).lr, 1e-2, 1e-12);
  EXPECT_NEAR(schedule_at(o, 550).lr, 0.5e-2, 1e-12);
  EXPECT_NEAR(schedule_at(o, 1000).lr, 0.0, 1e-12);
  EXPECT_DOUBLE_EQ(schedule_at(options("constant"), 777).lr, 1e-2);
}

TEST(Schedule, UnknownKindIsAnError) {
  EXPECT_THROW(schedule_at(options("linear"), 0), Error);
}

}  // namespace
}  // namespace genolm::train
