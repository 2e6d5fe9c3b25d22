#include "train/task_metrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "genolm/error.h"
#include "support/test_files.h"

namespace genolm::train {
namespace {

constexpr double kTol = 1e-12;

// Six examples over three classes. Row 0 ties classes 0 and 1: the lower index (0) is predicted.
//   true 0: predicted 0, 0, 1    true 1: predicted 1, 2    true 2: predicted 2
// Confusion [[2,1,0],[0,1,1],[0,0,1]]; true counts t = (3,2,1), predicted counts p = (2,2,2).
const std::vector<double> kThreeClassProbabilities = {
    0.4, 0.4, 0.2,  // label 0
    0.7, 0.2, 0.1,  // label 0
    0.2, 0.5, 0.3,  // label 0
    0.1, 0.6, 0.3,  // label 1
    0.1, 0.3, 0.6,  // label 1
    0.2, 0.2, 0.6,  // label 2
};
const std::vector<std::int64_t> kThreeClassLabels = {0, 0, 0, 1, 1, 2};

TEST(TaskMetrics, ThreeClassConfusionAccuracyMccAndMacroF1ByHand) {
  const auto m = classification_metrics(kThreeClassProbabilities, kThreeClassLabels, 3);
  const std::vector<std::vector<std::int64_t>> expected = {{2, 1, 0}, {0, 1, 1}, {0, 0, 1}};
  EXPECT_EQ(m.confusion, expected);
  // accuracy = trace / n = 4 / 6.
  EXPECT_NEAR(m.accuracy, 4.0 / 6, kTol);
  // recalls 2/3, 1/2, 1/1 -> mean (4/6 + 3/6 + 6/6) / 3 = 13/18.
  EXPECT_NEAR(m.balanced_accuracy, 13.0 / 18, kTol);
  // Gorodkin: c = 4, s = 6, sum t*p = 6+4+2 = 12, sum p^2 = 12, sum t^2 = 14.
  // (c*s - 12) / sqrt((s^2 - 12) * (s^2 - 14)) = 12 / sqrt(24 * 22).
  EXPECT_NEAR(m.mcc, 12.0 / std::sqrt(24.0 * 22.0), kTol);
  // F1 = 2TP / (t + p): 4/5, 2/4, 2/3 -> mean 59/90.
  EXPECT_NEAR(m.macro_f1, 59.0 / 90, kTol);
  EXPECT_TRUE(std::isnan(m.loss));
}

TEST(TaskMetrics, ThreeClassOneVsRestAurocAndAuprcByHand) {
  const auto m = classification_metrics(kThreeClassProbabilities, kThreeClassLabels, 3);
  // AUROC per class, counting (positive, negative) pairs ranked right; ties count 1/2.
  //   class 0: pos {.4,.7,.2} vs neg {.1,.1,.2}: 3 + 3 + (2 + 1/2) = 8.5 of 9
  //   class 1: pos {.6,.3} vs neg {.4,.2,.5,.2}: 4 + 2 = 6 of 8
  //   class 2: pos {.6} vs neg {.2,.1,.3,.3,.6}: 4 + 1/2 = 4.5 of 5
  // macro = (17/18 + 3/4 + 9/10) / 3 = 467/540.
  EXPECT_NEAR(m.auroc, 467.0 / 540, kTol);
  // AP per class, sum of (R_k - R_{k-1}) * P_k over distinct thresholds:
  //   class 0: .7 -> R 1/3 P 1; .4 -> R 2/3 P 1; .2 (pos and neg tied) -> R 1 P 3/4: 11/12
  //   class 1: .6 -> R 1/2 P 1; .3 -> R 1 P 2/4: 3/4
  //   class 2: .6 (pos and neg tied) -> R 1 P 1/2: 1/2
  // macro = (11/12 + 9/12 + 6/12) / 3 = 13/18.
  EXPECT_NEAR(m.auprc, 13.0 / 18, kTol);
}

TEST(TaskMetrics, ClassAbsentEverywhereScoresZeroF1AndIsSkippedElsewhere) {
  // The three-class fixture with a fourth class that is never true nor predicted.
  std::vector<double> probabilities;
  for (std::size_t i = 0; i < kThreeClassLabels.size(); ++i) {
    for (std::size_t c = 0; c < 3; ++c)
      probabilities.push_back(kThreeClassProbabilities[i * 3 + c]);
    probabilities.push_back(0.0);
  }
  const auto m = classification_metrics(probabilities, kThreeClassLabels, 4);
  EXPECT_NEAR(m.macro_f1, 59.0 / 90 * 3 / 4, kTol);         // (4/5 + 2/4 + 2/3 + 0) / 4
  EXPECT_NEAR(m.balanced_accuracy, 13.0 / 18, kTol);        // mean over the present classes
  EXPECT_NEAR(m.mcc, 12.0 / std::sqrt(24.0 * 22.0), kTol);  // an all-zero class adds nothing
  EXPECT_NEAR(m.auroc, 467.0 / 540, kTol);                  // class 3 has no positives: skipped
  EXPECT_NEAR(m.auprc, 13.0 / 18, kTol);
}

TEST(TaskMetrics, BinaryUsesClassOneProbability) {
  // P(class 1) = .1, .4, .4, .8 for labels 0, 0, 1, 1; argmax gives 0, 0, 0, 1.
  const std::vector<double> probabilities = {0.9, 0.1, 0.6, 0.4, 0.6, 0.4, 0.2, 0.8};
  const auto m = classification_metrics(probabilities, {0, 0, 1, 1}, 2);
  const std::vector<std::vector<std::int64_t>> expected = {{2, 0}, {1, 1}};
  EXPECT_EQ(m.confusion, expected);
  EXPECT_NEAR(m.accuracy, 0.75, kTol);
  EXPECT_NEAR(m.balanced_accuracy, (1.0 + 0.5) / 2, kTol);
  EXPECT_NEAR(m.auroc, 0.875, kTol);
  EXPECT_NEAR(m.auprc, 5.0 / 6, kTol);  // .8 -> R 1/2 P 1; .4 tie -> R 1 P 2/3
}

TEST(TaskMetrics, MccIsZeroWhenEverythingIsPredictedOneClass) {
  // All predicted 0: sum p^2 = s^2, so the denominator is 0 and MCC is defined as 0.
  const auto m = classification_metrics({0.9, 0.1, 0.8, 0.2, 0.7, 0.3}, {0, 1, 1}, 2);
  EXPECT_EQ(m.mcc, 0.0);
}

TEST(TaskMetrics, AurocWithTiesCountsHalf) {
  // Pairs (pos, neg): (.4,.1) 1, (.4,.4) 1/2, (.8,.1) 1, (.8,.4) 1 -> 3.5 / 4.
  EXPECT_NEAR(auroc({0.1, 0.4, 0.4, 0.8}, {false, false, true, true}), 0.875, kTol);
}

TEST(TaskMetrics, AurocPerfectInvertedAndMissingClass) {
  EXPECT_NEAR(auroc({0.1, 0.2, 0.8, 0.9}, {false, false, true, true}), 1.0, kTol);
  EXPECT_NEAR(auroc({0.1, 0.2, 0.8, 0.9}, {true, true, false, false}), 0.0, kTol);
  EXPECT_TRUE(std::isnan(auroc({0.1, 0.2}, {true, true})));
  EXPECT_TRUE(std::isnan(auroc({0.1, 0.2}, {false, false})));
}

TEST(TaskMetrics, AveragePrecisionTreatsTiesAsOneThreshold) {
  // .9 (pos) -> R 1/3 P 1; .5 (neg, pos, pos tied) -> R 1 P 3/4: 1/3 + (2/3)(3/4) = 5/6.
  // Breaking the tie positives-first would give 1, negatives-first 0.806.
  EXPECT_NEAR(average_precision({0.9, 0.5, 0.5, 0.5, 0.1}, {true, false, true, true, false}),
              5.0 / 6, kTol);
  EXPECT_NEAR(average_precision({0.1, 0.4, 0.4, 0.8}, {false, false, true, true}), 5.0 / 6, kTol);
  EXPECT_NEAR(average_precision({0.1, 0.2, 0.8}, {false, false, true}), 1.0, kTol);
  EXPECT_TRUE(std::isnan(average_precision({0.1, 0.2}, {false, false})));
}

TEST(TaskMetrics, RocCurveHasOnePointPerDistinctThreshold) {
  // Thresholds .8, .4 (tied), .1 after the (0, 0) start; P = N = 2.
  const auto curve = roc_curve({0.1, 0.4, 0.4, 0.8}, {false, false, true, true});
  EXPECT_EQ(curve.false_positive_rate, (std::vector<double>{0, 0, 0.5, 1}));
  EXPECT_EQ(curve.true_positive_rate, (std::vector<double>{0, 0.5, 1, 1}));
}

TEST(TaskMetrics, PrecisionRecallCurveHasOnePointPerDistinctThreshold) {
  // .9 (pos) -> R 1/3 P 1; .5 (neg, pos, pos tied) -> R 1 P 3/4; .1 (neg) -> R 1 P 3/5.
  const std::vector<double> scores{0.9, 0.5, 0.5, 0.5, 0.1};
  const std::vector<bool> positive{true, false, true, true, false};
  const auto curve = precision_recall_curve(scores, positive);
  EXPECT_EQ(curve.recall, (std::vector<double>{0, 1.0 / 3, 1, 1}));
  EXPECT_EQ(curve.precision, (std::vector<double>{1, 1, 0.75, 0.6}));
  // The step area under the points is the average precision.
  double area = 0;
  for (std::size_t k = 1; k < curve.recall.size(); ++k)
    area += (curve.recall[k] - curve.recall[k - 1]) * curve.precision[k];
  EXPECT_NEAR(area, average_precision(scores, positive), kTol);
  EXPECT_TRUE(precision_recall_curve({0.1, 0.2}, {false, false}).recall.empty());
}

TEST(TaskMetrics, AverageRanksShareTies) {
  // Sorted: 5 (1), 10 (2), 20 20 20 (3, 4, 5 -> 4).
  EXPECT_EQ(average_ranks({10, 20, 20, 5, 20}), (std::vector<double>{2, 4, 4, 1, 4}));
  EXPECT_TRUE(average_ranks({}).empty());
  EXPECT_NE(test::error_of([] { average_ranks({1.0, std::nan("")}); }), "");
}

TEST(TaskMetrics, SpearmanWithTiesIsPearsonOfAverageRanks) {
  // Ranks x (1, 2.5, 2.5, 4), y (1, 3, 2, 4); both mean 2.5.
  // dx (-1.5, 0, 0, 1.5), dy (-1.5, .5, -.5, 1.5): sxy 4.5, sxx 4.5, syy 5 -> 4.5 / sqrt(22.5).
  const auto m = regression_metrics({1, 2, 2, 3}, {1, 3, 2, 4}, 1);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_NEAR(m[0].spearman, std::sqrt(0.9), kTol);
}

TEST(TaskMetrics, RegressionByHandPerTarget) {
  // Target 0: truth (1, 2, 3, 4), prediction (1.5, 2, 2.5, 5).
  //   errors (.5, 0, -.5, 1): SS_res 1.5, RMSE sqrt(1.5/4), MAE 2/4.
  //   SS_tot about 2.5: 5 -> R2 = 1 - 1.5/5 = .7.
  //   Pearson: prediction mean 2.75, deviations (-1.25, -.75, -.25, 2.25), truth deviations
  //   (-1.5, -.5, .5, 1.5): sxy 5.5, spp 7.25, stt 5 -> 5.5 / sqrt(36.25). Same order: Spearman 1.
  // Target 1: constant truth 3, prediction (1, 2, 3, 4): errors (-2, -1, 0, 1): RMSE sqrt(6/4),
  //   MAE 1; Pearson, Spearman and R2 undefined.
  const std::vector<double> predictions = {1.5, 1, 2, 2, 2.5, 3, 5, 4};
  const std::vector<double> truth = {1, 3, 2, 3, 3, 3, 4, 3};
  const auto m = regression_metrics(predictions, truth, 2);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_NEAR(m[0].rmse, std::sqrt(1.5 / 4), kTol);
  EXPECT_NEAR(m[0].mae, 0.5, kTol);
  EXPECT_NEAR(m[0].r2, 0.7, kTol);
  EXPECT_NEAR(m[0].pearson, 5.5 / std::sqrt(36.25), kTol);
  EXPECT_NEAR(m[0].spearman, 1.0, kTol);
  EXPECT_NEAR(m[1].rmse, std::sqrt(1.5), kTol);
  EXPECT_NEAR(m[1].mae, 1.0, kTol);
  EXPECT_TRUE(std::isnan(m[1].pearson));
  EXPECT_TRUE(std::isnan(m[1].spearman));
  EXPECT_TRUE(std::isnan(m[1].r2));
}

TEST(TaskMetrics, JsonWritesNaNAsNullAndLossOnlyWhenSet) {
  auto m = classification_metrics({0.9, 0.1, 0.8, 0.2}, {0, 0}, 2);  // no positives: AUROC NaN
  auto json = m.to_json();
  EXPECT_FALSE(json.contains("loss"));
  EXPECT_TRUE(json["auroc"].is_null());
  EXPECT_TRUE(json["auprc"].is_null());
  EXPECT_EQ(json["accuracy"].get<double>(), 1.0);
  EXPECT_EQ(json["confusion"], nlohmann::json::parse("[[2, 0], [0, 0]]"));
  m.loss = 0.25;
  EXPECT_EQ(m.to_json()["loss"].get<double>(), 0.25);

  const auto r = regression_metrics({1, 2}, {3, 3}, 1);
  json = r[0].to_json();
  EXPECT_TRUE(json["r2"].is_null());
  EXPECT_TRUE(json["pearson"].is_null());
  EXPECT_EQ(json["mae"].get<double>(), 1.5);
}

TEST(TaskMetrics, RejectsBadSizesAndLabels) {
  using test::error_of;
  EXPECT_NE(error_of([] {
              classification_metrics({0.5, 0.5, 0.5}, {0, 1}, 2);
            }).find("3 probabilities"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              classification_metrics({0.5, 0.5}, {2}, 2);
            }).find("label 2"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              classification_metrics({0.5, 0.5}, {-1}, 2);
            }).find("label -1"),
            std::string::npos);
  EXPECT_NE(error_of([] { classification_metrics({}, {}, 2); }).find("no examples"),
            std::string::npos);
  EXPECT_NE(error_of([] { regression_metrics({1, 2, 3}, {1, 2}, 1); }), "");
  EXPECT_NE(error_of([] { regression_metrics({1, 2, 3}, {1, 2, 3}, 2); }), "");
  EXPECT_NE(error_of([] { regression_metrics({}, {}, 1); }).find("no examples"), std::string::npos);
  EXPECT_NE(error_of([] { auroc({0.1, 0.2}, {true}); }), "");
}

// Four rows, three labels (row-major probabilities and truth):
//   label a: truth 1 0 1 0, p .9 .2 .4 .6
//   label b: truth 0 0 0 0, p .1 .3 .2 .7   (one class: no AUROC or AUPRC)
//   label c: truth 0 1 1 1, p .5 .8 .5 .3   (p = .5 predicts 0, and ties a negative)
const std::vector<double> kMultilabelProbabilities = {
    0.9, 0.1, 0.5,  //
    0.2, 0.3, 0.8,  //
    0.4, 0.2, 0.5,  //
    0.6, 0.7, 0.3,  //
};
const std::vector<float> kMultilabelTruth = {
    1, 0, 0,  //
    0, 0, 1,  //
    1, 0, 1,  //
    0, 0, 1,  //
};

TEST(TaskMetrics, MultilabelPerLabelAndMacroByHand) {
  const auto m = multilabel_metrics(kMultilabelProbabilities, kMultilabelTruth, 3);
  ASSERT_EQ(m.labels.size(), 3u);
  EXPECT_EQ(m.labels[0].positives, 2);
  EXPECT_EQ(m.labels[1].positives, 0);
  EXPECT_EQ(m.labels[2].positives, 3);
  // AUROC, (positive, negative) pairs ranked right, ties 1/2:
  //   a: pos {.9,.4} vs neg {.2,.6}: .9 beats both, .4 beats .2 only -> 3 of 4
  //   c: pos {.8,.5,.3} vs neg {.5}: 1 + 1/2 + 0 -> 1.5 of 3
  EXPECT_NEAR(m.labels[0].auroc, 3.0 / 4, kTol);
  EXPECT_NEAR(m.labels[2].auroc, 1.0 / 2, kTol);
  // AP, the sum of (R_k - R_{k-1}) * P_k over distinct thresholds:
  //   a: .9 -> R 1/2 P 1; .6 -> R 1/2; .4 -> R 1 P 2/3; .2 -> R 1: 1/2 + 1/3 = 5/6
  //   c: .8 -> R 1/3 P 1; .5 (pos and neg) -> R 2/3 P 2/3; .3 -> R 1 P 3/4:
  //      1/3 + 2/9 + 1/4 = 29/36
  EXPECT_NEAR(m.labels[0].auprc, 5.0 / 6, kTol);
  EXPECT_NEAR(m.labels[2].auprc, 29.0 / 36, kTol);
  EXPECT_TRUE(std::isnan(m.labels[1].auroc));
  EXPECT_TRUE(std::isnan(m.labels[1].auprc));
  // Accuracy at 0.5 (p > .5 predicts 1): a predicts 1 0 0 1 -> 2/4; b 0 0 0 1 -> 3/4;
  // c 0 1 0 0 -> 2/4.
  EXPECT_NEAR(m.labels[0].accuracy, 1.0 / 2, kTol);
  EXPECT_NEAR(m.labels[1].accuracy, 3.0 / 4, kTol);
  EXPECT_NEAR(m.labels[2].accuracy, 1.0 / 2, kTol);
  // Macro means leave b out of the ranking metrics, not out of accuracy.
  EXPECT_EQ(m.single_class_labels, 1);
  EXPECT_NEAR(m.auroc, (3.0 / 4 + 1.0 / 2) / 2, kTol);
  EXPECT_NEAR(m.auprc, (5.0 / 6 + 29.0 / 36) / 2, kTol);
  EXPECT_NEAR(m.accuracy, (1.0 / 2 + 3.0 / 4 + 1.0 / 2) / 3, kTol);
  // Binary cross-entropy over the 12 values: -ln p for a 1, -ln(1 - p) for a 0:
  //   a: .9 .8 .4 .4   b: .9 .7 .8 .3   c: .5 .8 .5 .3
  const double log_sum = 2 * std::log(0.9) + 3 * std::log(0.8) + 2 * std::log(0.4) + std::log(0.7) +
                         2 * std::log(0.3) + 2 * std::log(0.5);
  EXPECT_NEAR(m.loss, -log_sum / 12, kTol);
}

TEST(TaskMetrics, MultilabelJsonNamesLabelsAndWritesSkippedOnesAsNull) {
  const auto json = multilabel_metrics(kMultilabelProbabilities, kMultilabelTruth, 3)
                        .to_json({"dnase", "ctcf", "h3k4me3"});
  EXPECT_EQ(json.at("single_class_labels"), 1);
  EXPECT_TRUE(json.at("labels").at("ctcf").at("auroc").is_null());
  EXPECT_TRUE(json.at("labels").at("ctcf").at("auprc").is_null());
  EXPECT_EQ(json.at("labels").at("ctcf").at("positives"), 0);
  EXPECT_NEAR(json.at("labels").at("dnase").at("auroc").get<double>(), 0.75, kTol);
  EXPECT_NEAR(json.at("auroc").get<double>(), 0.625, kTol);
  EXPECT_NE(test::error_of([] {
              multilabel_metrics({0.5}, {1}, 1).to_json({"a", "b"});
            }).find("2 names for 1 labels"),
            std::string::npos);
}

TEST(TaskMetrics, MultilabelWithNaNProbabilitiesHasNoRankingMetrics) {
  const auto m = multilabel_metrics({0.2, kNaN, 0.7, 0.4}, {0, 1, 1, 0}, 2);
  EXPECT_TRUE(std::isnan(m.auroc));
  EXPECT_TRUE(std::isnan(m.labels[0].auroc));
  EXPECT_EQ(m.single_class_labels, 0);
  EXPECT_NEAR(m.labels[0].accuracy, 1.0, kTol);
}

TEST(TaskMetrics, MultilabelRejectsBadSizesAndTruth) {
  using test::error_of;
  EXPECT_NE(error_of([] {
              multilabel_metrics({0.5, 0.5, 0.5}, {1, 0}, 1);
            }).find("3 probabilities"),
            std::string::npos);
  EXPECT_NE(error_of([] { multilabel_metrics({0.5, 0.5, 0.5}, {1, 0, 1}, 2); }), "");
  EXPECT_NE(error_of([] { multilabel_metrics({}, {}, 2); }).find("no examples"), std::string::npos);
  EXPECT_NE(error_of([] {
              multilabel_metrics({0.5, 0.5}, {1, 0.5f}, 2);
            }).find("row 0, label 1"),
            std::string::npos);
}

}  // namespace
}  // namespace genolm::train
