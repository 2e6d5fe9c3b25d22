#include "train/lr_plan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "genolm/error.h"
#include "support/test_files.h"

namespace genolm::train {
namespace {

// Fine-tuning's shape: three stages of 20, 10 and 30 steps over four groups (embedding, two
// layers, head), gradual unfreezing, rates divided by 2.6 per group down.
LrPlan gradual_plan() {
  return {.shape = {.kind = "one_cycle", .moms_high = 0.8, .moms_low = 0.7},
          .groups = layer_group_names(4, true),
          .lr_div = 2.6,
          .stages = {{.first_step = 0, .steps = 20, .lr = 2e-2, .trainable = 1},
                     {.first_step = 20, .steps = 10, .lr = 1e-2, .trainable = 2},
                     {.first_step = 30, .steps = 30, .lr = 5e-3, .trainable = 4}}};
}

TEST(LrPlan, EachStageRestartsItsCycleAndUnfreezesFromTheTop) {
  const LrPlan plan = gradual_plan();
  EXPECT_EQ(plan.total_steps(), 60);
  // Stage 1: only the head trains, starting its cycle at lr / 25 with momentum high.
  auto rates = plan.at(0);
  EXPECT_EQ(rates.stage, 0u);
  EXPECT_NEAR(rates.lr[3], 2e-2 / 25, 1e-15);
  EXPECT_EQ(rates.lr[0], 0.0);
  EXPECT_EQ(rates.lr[1], 0.0);
  EXPECT_EQ(rates.lr[2], 0.0);
  EXPECT_NEAR(rates.beta1, 0.8, 1e-12);
  // The peak of stage 1 at 25% of its 20 steps.
  EXPECT_NEAR(plan.at(5).lr[3], 2e-2, 1e-15);
  EXPECT_NEAR(plan.at(5).beta1, 0.7, 1e-12);
  // Stage 2 starts a new cycle; the group below the head trains at the head's rate / 2.6.
  rates = plan.at(20);
  EXPECT_EQ(rates.stage, 1u);
  EXPECT_NEAR(rates.lr[3], 1e-2 / 25, 1e-15);
  EXPECT_NEAR(rates.lr[2], 1e-2 / 25 / 2.6, 1e-15);
  EXPECT_EQ(rates.lr[1], 0.0);
  // The last stage trains all four, the embedding at the head's rate / 2.6^3.
  rates = plan.at(30 + 30 / 4 + 1);
  EXPECT_EQ(rates.stage, 2u);
  for (std::size_t g = 0; g < 4; ++g)
    EXPECT_NEAR(rates.lr[g], rates.lr[3] / std::pow(2.6, 3.0 - static_cast<double>(g)), 1e-15);
  // Past the end, the last value stays.
  EXPECT_EQ(plan.at(60).lr, plan.at(500).lr);
}

TEST(LrPlan, EveryStepIsTheStagesScheduleAtItsOwnStep) {
  const LrPlan plan = gradual_plan();
  for (std::int64_t step = 0; step < plan.total_steps(); ++step) {
    const std::size_t stage = step < 20 ? 0 : step < 30 ? 1 : 2;
    const LrStage& s = plan.stages[stage];
    ScheduleOptions cycle = plan.shape;
    cycle.lr = s.lr;
    cycle.total_steps = s.steps;
    const double top = schedule_at(cycle, step - s.first_step).lr;
    const auto rates = plan.at(step);
    ASSERT_EQ(rates.lr.size(), 4u);
    EXPECT_DOUBLE_EQ(rates.lr[3], top) << "step " << step;
  }
}

TEST(LrPlan, JsonRoundTripGivesTheSameRatesAtEveryStep) {
  const LrPlan plan = gradual_plan();
  const LrPlan back = LrPlan::from_json(nlohmann::json::parse(plan.to_json().dump()));
  EXPECT_EQ(back.groups, plan.groups);
  ASSERT_EQ(back.stages.size(), 3u);
  for (std::int64_t step = 0; step <= plan.total_steps(); ++step) {
    EXPECT_EQ(back.at(step).lr, plan.at(step).lr) << "step " << step;
    EXPECT_EQ(back.at(step).beta1, plan.at(step).beta1) << "step " << step;
  }
}

TEST(LrPlan, MalformedRecordsNameWhatIsWrong) {
  const nlohmann::json good = gradual_plan().to_json();
  const auto error_with = [&](const auto& change) {
    nlohmann::json changed = good;
    change(changed);
    return test::error_of([&] { LrPlan::from_json(changed); });
  };
  EXPECT_NE(error_with([](auto& j) { j.erase("stages"); }).find("has no \"stages\""),
            std::string::npos);
  EXPECT_NE(error_with([](auto& j) {
              j["stages"][1]["first_step"] = 25;
            }).find("stage 2 starts at step 25, not where the stage before it ends (20)"),
            std::string::npos);
  EXPECT_NE(error_with([](auto& j) { j["stages"][0]["steps"] = -3; }).find("not a count"),
            std::string::npos);
  EXPECT_NE(error_with([](auto& j) { j["shape"]["div"] = "x"; }).find("\"div\""),
            std::string::npos);
  EXPECT_NE(error_with([](auto& j) { j["schedule"] = "linear"; }).find("unknown schedule"),
            std::string::npos);
  EXPECT_THROW(LrPlan::from_json(nlohmann::json::array()), Error);
}

TEST(LrPlan, GroupNamesFromTheInputSide) {
  EXPECT_EQ(layer_group_names(4, true),
            (std::vector<std::string>{"embedding", "layer 1", "layer 2", "head"}));
  EXPECT_EQ(layer_group_names(3, false),
            (std::vector<std::string>{"embedding", "layer 1", "layer 2"}));
}

}  // namespace
}  // namespace genolm::train
