// The multi-label task kind on its own: its loss against hand-computed binary cross-entropy (with
// and without balanced pos_weight), its metrics, prediction file, strata and model.json part, and
// the errors for bad label values. A fine-tune through the loop is in training_loops_test.cpp.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "config/recipe.h"
#include "genolm/tokenizers/character.h"
#include "support/test_files.h"
#include "task/finetune_data.h"
#include "task/task.h"

namespace genolm::task {
namespace {

std::unique_ptr<Task> multilabel(const std::vector<std::string>& assignments) {
  config::Recipe recipe;
  recipe.set("task.kind=multilabel");
  for (const auto& assignment : assignments)
    recipe.set(assignment);
  return task_kind("multilabel").from_recipe(recipe, {}, "train.tsv");
}

// Examples with ids and labels only: the task never reads their tokens.
data::TaskExamples examples(const std::vector<std::vector<float>>& rows) {
  data::TaskExamples out;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out.ids.push_back("r" + std::to_string(i));
    out.tokens.push_back({1});
    out.targets.insert(out.targets.end(), rows[i].begin(), rows[i].end());
  }
  return out;
}

// Three rows, two labels; logits chosen so that sigmoid gives 1/2 (logit 0) or 3/4 (logit ln 3).
//   truth  [1 1]  [0 1]  [0 0]
//   p      [1/2 3/4]  [3/4 1/2]  [1/2 1/2]
const data::TaskExamples kThree = examples({{1, 1}, {0, 1}, {0, 0}});
torch::Tensor three_logits() {
  const float l3 = static_cast<float>(std::log(3.0));
  return torch::tensor({0.f, l3, l3, 0.f, 0.f, 0.f}).view({3, 2});
}

TEST(MultilabelTask, LossIsMeanBinaryCrossEntropyOverRowsAndLabels) {
  const auto task = multilabel({"task.label_columns=a,b"});
  EXPECT_EQ(task->outputs(), 2);
  // -ln p for a 1, -ln(1 - p) for a 0:
  //   row 0: ln 2, ln 4/3   row 1: ln 4, ln 2   row 2: ln 2, ln 2
  // sum = 4 ln 2 + (2 ln 2 - ln 3) + 2 ln 2 = 8 ln 2 - ln 3, over 6 values.
  const double expected = (8 * std::log(2.0) - std::log(3.0)) / 6;
  const auto loss = task->loss(three_logits(), kThree, {0, 1, 2});
  EXPECT_NEAR(loss.item<double>(), expected, 1e-6);
  // Rows are taken by index: row 1 alone is (ln 4 + ln 2) / 2.
  EXPECT_NEAR(task->loss(three_logits().slice(0, 1, 2), kThree, {1}).item<double>(),
              3 * std::log(2.0) / 2, 1e-6);
}

TEST(MultilabelTask, BalancedWeightsPositivesByNegativesOverPositives) {
  const auto task = multilabel({"task.label_columns=a,b", "task.class_weights=balanced"});
  task->fit(kThree);
  // a: 1 positive, 2 negatives -> pos_weight 2; b: 2 positives, 1 negative -> 1/2.
  // Only the positive terms are weighted:
  //   row 0: 2 ln 2 + (1/2)(2 ln 2 - ln 3)   row 1: ln 4 + (1/2) ln 2   row 2: ln 2 + ln 2
  // sum = 7.5 ln 2 - 0.5 ln 3, over 6 values = (15 ln 2 - ln 3) / 12.
  const double expected = (15 * std::log(2.0) - std::log(3.0)) / 12;
  EXPECT_NEAR(task->loss(three_logits(), kThree, {0, 1, 2}).item<double>(), expected, 1e-6);
}

TEST(MultilabelTask, ALabelWithOneClassInTrainKeepsWeightOne) {
  const auto task = multilabel({"task.label_columns=a,b", "task.class_weights=balanced"});
  const auto train = examples({{1, 0}, {1, 0}});  // a: no negatives; b: no positives
  task->fit(train);
  const auto plain = multilabel({"task.label_columns=a,b"});
  const auto logits = torch::tensor({0.5f, -1.f, 2.f, 0.f}).view({2, 2});
  EXPECT_NEAR(task->loss(logits, train, {0, 1}).item<double>(),
              plain->loss(logits, train, {0, 1}).item<double>(), 1e-7);
}

TEST(MultilabelTask, ProbabilitiesAreSigmoidsAndMetricsNameEveryLabel) {
  const auto task = multilabel({"task.label_columns=a,b"});
  const auto predictions = task->to_predictions(task->finish(three_logits()).to(torch::kDouble));
  ASSERT_EQ(predictions.width, 2u);
  const std::vector<double> expected = {0.5, 0.75, 0.75, 0.5, 0.5, 0.5};
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(predictions.values[i], expected[i], 1e-6) << "value " << i;

  const auto metrics = task->metrics(predictions, kThree);
  // The metric loss is the unweighted cross-entropy of the loss test.
  EXPECT_NEAR(metrics.at("loss").get<double>(), (8 * std::log(2.0) - std::log(3.0)) / 6, 1e-6);
  // a: pos {1/2} vs neg {3/4, 1/2}: 0 + 1/2 -> 1/4. b: pos {3/4, 1/2} vs neg {1/2}: 1 + 1/2 -> 3/4.
  EXPECT_NEAR(metrics.at("labels").at("a").at("auroc").get<double>(), 0.25, 1e-9);
  EXPECT_NEAR(metrics.at("labels").at("b").at("auroc").get<double>(), 0.75, 1e-9);
  EXPECT_NEAR(metrics.at("auroc").get<double>(), 0.5, 1e-9);
  EXPECT_EQ(metrics.at("single_class_labels"), 0);
  EXPECT_EQ(task->default_metric(), "auroc");
  EXPECT_TRUE(higher_is_better(task->default_metric()));
  for (const auto& name : task->headline_metrics())
    EXPECT_TRUE(metrics.contains(name)) << name;
}

TEST(MultilabelTask, PredictionFileHasTruthThenOneProbabilityColumnPerLabel) {
  const auto task = multilabel({"task.label_columns=dnase,ctcf"});
  const Predictions predictions{.values = {0.25, 0.5, 0.125, 1}, .width = 2};
  const auto labelled = examples({{1, 0}, {0, 1}});
  EXPECT_EQ(task->prediction_table(labelled, predictions),
            "id\tdnase\tctcf\tprob_dnase\tprob_ctcf\n"
            "r0\t1\t0\t0.25\t0.5\n"
            "r1\t0\t1\t0.125\t1\n");
  auto unlabelled = labelled;
  unlabelled.targets.clear();
  EXPECT_EQ(task->prediction_table(unlabelled, predictions),
            "id\tprob_dnase\tprob_ctcf\n"
            "r0\t0.25\t0.5\n"
            "r1\t0.125\t1\n");
  // Probabilities get 7 significant digits (about what float32 holds), not 6.
  const Predictions fine{.values = {0.12345678, 0.5, 0.125, 1}, .width = 2};
  EXPECT_EQ(task->prediction_table(labelled, fine),
            "id\tdnase\tctcf\tprob_dnase\tprob_ctcf\n"
            "r0\t1\t0\t0.1234568\t0.5\n"
            "r1\t0\t1\t0.125\t1\n");
  // An id from a quoted CSV field may hold a tab or a line break: escaped, every row keeps its
  // columns (written as is, it once shifted them).
  unlabelled.ids = {"a\tb", "c\nd\\"};
  EXPECT_EQ(task->prediction_table(unlabelled, predictions),
            "id\tprob_dnase\tprob_ctcf\n"
            "a\\tb\t0.25\t0.5\n"
            "c\\nd\\\\\t0.125\t1\n");
}

TEST(MultilabelTask, ModelJsonPartRebuildsTheTask) {
  const auto task = multilabel({"task.label_columns=dnase,ctcf,h3k27ac"});
  const auto described = task->describe();
  EXPECT_EQ(described.at("kind"), "multilabel");
  const auto rebuilt = task_kind("multilabel").from_description(described);
  EXPECT_EQ(rebuilt->kind(), "multilabel");
  EXPECT_EQ(rebuilt->scheme().kind, data::TaskKind::multilabel);
  EXPECT_EQ(rebuilt->scheme().targets, (std::vector<std::string>{"dnase", "ctcf", "h3k27ac"}));
}

TEST(MultilabelTask, StrataAreEachExamplesRarestPositiveLabel) {
  const auto task = multilabel({"task.label_columns=common,rare,mid"});
  // Positives: common 4, rare 1, mid 2.
  const auto strata = task->strata(examples({
      {1, 0, 0},  // common only -> 0
      {1, 1, 1},  // rare is the rarest -> 1
      {1, 0, 1},  // mid (2) is rarer than common (4) -> 2
      {1, 0, 0},  // -> 0
      {0, 0, 0},  // no positive label -> its own stratum, 3
  }));
  EXPECT_EQ(strata, (std::vector<std::int64_t>{0, 1, 2, 0, 3}));
}

TEST(MultilabelTask, RecipeErrorsNameTheKey) {
  EXPECT_NE(test::error_of([] {
              multilabel({"task.label_columns=a,b,a"});
            }).find("task.label_columns names 'a' twice"),
            std::string::npos);
  EXPECT_NE(test::error_of([] {
              multilabel({"task.label_columns=a", "task.output_range=[0, 1]"});
            }).find("task.output_range"),
            std::string::npos);
  EXPECT_NE(test::error_of([] {
              multilabel({"task.label_columns=a", "task.metric=mcc"});
            }).find("task.metric 'mcc' is not a multilabel metric"),
            std::string::npos);
  EXPECT_EQ(test::error_of([] { multilabel({"task.label_columns=a", "task.metric=auprc"}); }), "");
}

class MultilabelFile : public ::testing::Test {
 protected:
  config::Recipe recipe(const std::string& table) {
    test::write_text(dir_ / "train.tsv", table);
    config::Recipe recipe;
    for (const auto& assignment :
         std::vector<std::string>{"task.kind=multilabel", "task.label_columns=dnase,ctcf",
                                  "task.train=" + (dir_ / "train.tsv").string(),
                                  "task.valid_fraction=0.25", "task.test_fraction=0"})
      recipe.set(assignment);
    return recipe;
  }

  test::TempDir dir_;
  tokenizers::CharacterTokenizer tokenizer_ = tokenizers::CharacterTokenizer::nucleotide();
};

TEST_F(MultilabelFile, ReadsZeroOneAndTrueFalseInAnyCase) {
  const auto data = load_finetune_data(recipe("id\tsequence\tdnase\tctcf\n"
                                              "a\tACGTAC\t1\t0\n"
                                              "b\tACGTAA\tTRUE\tfalse\n"
                                              "c\tACGTCC\t0\tTrue\n"
                                              "d\tACGTGG\tFalse\t1\n"),
                                       tokenizer_, /*backward=*/false);
  EXPECT_EQ(data.task->kind(), "multilabel");
  std::vector<float> all = data.train.targets;
  all.insert(all.end(), data.valid.targets.begin(), data.valid.targets.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<float>{0, 0, 0, 0, 1, 1, 1, 1}));
}

TEST_F(MultilabelFile, ALabelThatIsNotZeroOrOneNamesFileRowAndColumn) {
  const auto file = (dir_ / "train.tsv").string();
  EXPECT_EQ(
      test::error_of([&] {
        load_finetune_data(recipe("id\tsequence\tdnase\tctcf\n"
                                  "a\tACGTAC\t1\t0\n"
                                  "b\tACGTAA\t0\t2\n"),
                           tokenizer_, /*backward=*/false);
      }),
      file + " line 3 (record 'b'): label column 'ctcf' is '2' (expected 0, 1, true or false)");
  EXPECT_EQ(test::error_of([&] {
              load_finetune_data(recipe("id\tsequence\tdnase\tctcf\n"
                                        "a\tACGTAC\tyes\t0\n"),
                                 tokenizer_, /*backward=*/false);
            }),
            file +
                " line 2 (record 'a'): label column 'dnase' is 'yes' (expected 0, 1, true or "
                "false)");
  EXPECT_EQ(test::error_of([&] {
              load_finetune_data(recipe("id\tsequence\tdnase\tctcf\n"
                                        "a\tACGTAC\t0.5\t0\n"),
                                 tokenizer_, /*backward=*/false);
            }),
            file +
                " line 2 (record 'a'): label column 'dnase' is '0.5' (expected 0, 1, true or "
                "false)");
}

}  // namespace
}  // namespace genolm::task
