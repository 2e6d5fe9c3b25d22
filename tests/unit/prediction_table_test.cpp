// The prediction tables of regression: targets written back as the user's table gave them (as
// far as a float holds them), predictions with 7 significant digits.
#include <gtest/gtest.h>

#include "config/recipe.h"
#include "io/tsv_field.h"
#include "task/task.h"

namespace genolm::task {
namespace {

TEST(TsvNumbers, InputNumbersReadBackAsTheSameFloat) {
  EXPECT_EQ(io::input_number(0.1f), "0.1");
  EXPECT_EQ(io::input_number(1234567.5f), "1234567.5");
  EXPECT_EQ(io::input_number(-2.0f), "-2");
  EXPECT_EQ(io::tsv_number(0.123456789), "0.1234568");
  EXPECT_EQ(io::tsv_number(1234567.5), "1234568");
}

TEST(RegressionTask, PredictionFileKeepsTargetsAsReadAndSevenDigits) {
  config::Recipe recipe;
  recipe.set("task.kind=regression");
  recipe.set("task.label_columns=tm");
  const auto task = task_kind("regression").from_recipe(recipe, {}, "train.tsv");
  data::TaskExamples examples;
  examples.ids = {"a", "b"};
  examples.tokens = {{1}, {1}};
  examples.targets = {1234567.5f, 0.1f};
  const Predictions predictions{.values = {1234567.25, 0.123456789}, .width = 1};
  // At 6 digits (before) the first row read "1.23457e+06\t1.23457e+06".
  EXPECT_EQ(task->prediction_table(examples, predictions),
            "id\ttm\ttm_pred\n"
            "a\t1234567.5\t1234567\n"
            "b\t0.1\t0.1234568\n");
}

}  // namespace
}  // namespace genolm::task
