#pragma once
// Fine-tuning metrics as pure functions of predictions and truth, so the trainer, the tests and the
// report compute them one way. Definitions follow scikit-learn where it has one, so numbers can be
// checked against a Python twin:
//   predicted class     argmax of the row; the lowest index wins ties.
//   balanced accuracy   mean recall over the classes present in the truth.
//   MCC                 the multiclass (Gorodkin) formula on the confusion matrix; 0 when its
//                       denominator is 0.
//   macro F1            unweighted mean F1 over all classes; a class never true nor predicted
//                       scores 0 (zero_division=0).
//   AUROC / AUPRC       binary: the probability of class 1 scores class 1; more classes:
//                       one-vs-rest, macro-averaged over classes with both positives and
//                       negatives; NaN when there are none.
//   regression          per target: RMSE, MAE, Pearson, Spearman (Pearson of average ranks) and
//                       R2 = 1 - SS_res / SS_tot; NaN where a correlation or R2 is undefined.
//   multi-label         per label: AUROC and AUPRC as binary (the label's probability scores its
//                       positives), accuracy at 0.5 (p > 0.5 predicts 1, as argmax of two
//                       classes does). Macro AUROC / AUPRC: the mean over labels with both
//                       positives and negatives; the others are NaN and counted. Accuracy: the
//                       mean over all labels. Loss: binary cross-entropy, mean over rows and
//                       labels, with p clipped to [1e-12, 1 - 1e-12].

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace genolm::train {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct ClassificationMetrics {
  double loss = kNaN;  // left NaN here; the trainer fills it
  double accuracy = kNaN;
  double balanced_accuracy = kNaN;
  double mcc = kNaN;
  double macro_f1 = kNaN;
  double auroc = kNaN;
  double auprc = kNaN;
  std::vector<std::vector<std::int64_t>> confusion;  // [true class][predicted class]

  // {"accuracy", "balanced_accuracy", "mcc", "macro_f1", "auroc", "auprc", "confusion"}, plus
  // "loss" when it is set; NaN is written as null (JSON has no NaN).
  nlohmann::json to_json() const;
};

// `probabilities` is row-major [n x classes] (rows sum to about 1); labels lie in [0, classes).
// Throws genolm::Error when the sizes disagree, a label is out of range, or n or classes is 0.
ClassificationMetrics classification_metrics(const std::vector<double>& probabilities,
                                             const std::vector<std::int64_t>& labels,
                                             std::size_t classes);

struct RegressionMetrics {
  double rmse = kNaN;
  double mae = kNaN;
  double pearson = kNaN;
  double spearman = kNaN;
  double r2 = kNaN;

  // {"rmse", "mae", "pearson", "spearman", "r2"}; NaN is written as null.
  nlohmann::json to_json() const;
};

// `predictions` and `truth` are row-major [n x targets]; one RegressionMetrics per target. Throws
// genolm::Error when the sizes disagree, targets is 0 or there are no rows.
std::vector<RegressionMetrics> regression_metrics(const std::vector<double>& predictions,
                                                  const std::vector<double>& truth,
                                                  std::size_t targets);

struct LabelMetrics {
  std::int64_t positives = 0;
  double auroc = kNaN;
  double auprc = kNaN;
  double accuracy = kNaN;
};

struct MultilabelMetrics {
  double loss = kNaN;
  double auroc = kNaN;  // macro
  double auprc = kNaN;  // macro
  double accuracy = kNaN;
  std::int64_t single_class_labels = 0;  // left out of the macro means
  std::vector<LabelMetrics> labels;

  // {"loss", "auroc", "auprc", "accuracy", "single_class_labels", "labels": {name: {"positives",
  // "auroc", "auprc", "accuracy"}}}; NaN is written as null. Throws genolm::Error unless `names`
  // has one name per label.
  nlohmann::json to_json(const std::vector<std::string>& names) const;
};

// `probabilities` and `truth` (0 or 1) are row-major [n x labels]. Throws genolm::Error when the
// sizes disagree, labels or n is 0, or a truth value is neither 0 nor 1.
MultilabelMetrics multilabel_metrics(const std::vector<double>& probabilities,
                                     const std::vector<float>& truth, std::size_t labels);

// Building blocks, public because the tests and the report use them.

// 1-based ranks; tied values share the mean of the ranks they span.
std::vector<double> average_ranks(const std::vector<double>& values);

// Pearson correlation; NaN when either side is constant or there are fewer than 2 values.
double pearson(const std::vector<double>& x, const std::vector<double>& y);

// The Mann-Whitney statistic with average ranks (a tied positive/negative pair counts 1/2); NaN
// when either class is absent.
double auroc(const std::vector<double>& scores, const std::vector<bool>& positive);

// scikit-learn's average_precision_score: the sum over distinct thresholds (tied scores form one)
// of (R_k - R_{k-1}) * P_k; NaN without positives.
double average_precision(const std::vector<double>& scores, const std::vector<bool>& positive);

struct RocCurve {
  std::vector<double> false_positive_rate;
  std::vector<double> true_positive_rate;
};

// One point per distinct threshold, from (0, 0) to (1, 1). A rate whose class is absent is NaN.
RocCurve roc_curve(const std::vector<double>& scores, const std::vector<bool>& positive);

struct PrecisionRecallCurve {
  std::vector<double> recall;
  std::vector<double> precision;
};

// One point per distinct threshold, scores taken in descending order, after a first point at
// recall 0 and precision 1 (scikit-learn's convention); the area average_precision() sums is the
// step under these points. Empty without positives.
PrecisionRecallCurve precision_recall_curve(const std::vector<double>& scores,
                                            const std::vector<bool>& positive);

}  // namespace genolm::train
