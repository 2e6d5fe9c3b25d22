#include "train/task_metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "genolm/error.h"

namespace genolm::train {
namespace {

// JSON has no NaN; nlohmann would write null anyway, but saying so keeps it independent of that.
nlohmann::json number_or_null(double value) {
  return std::isnan(value) ? nlohmann::json(nullptr) : nlohmann::json(value);
}

bool has_nan(const std::vector<double>& values) {
  return std::any_of(values.begin(), values.end(), [](double v) { return std::isnan(v); });
}

// Sorting with NaN breaks the comparator's ordering (undefined behaviour), so the ranking
// building blocks refuse it; the aggregate functions turn it into NaN metrics instead.
void require_no_nan(const std::vector<double>& values, const char* what) {
  if (has_nan(values)) throw Error(std::string(what) + ": values contain NaN (expected numbers)");
}

void require_same_size(std::size_t scores, std::size_t positive, const char* what) {
  if (scores != positive)
    throw Error(std::string(what) + ": " + std::to_string(scores) + " scores but " +
                std::to_string(positive) + " labels (expected one label per score)");
}

// A side whose values are all equal has no variance; testing equality directly avoids calling a
// constant column "correlated" through rounding in its mean.
bool is_constant(const std::vector<double>& values) {
  return std::all_of(values.begin(), values.end(), [&](double v) { return v == values.front(); });
}

double mean_of(const std::vector<double>& values) {
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

// Indices ordered by descending score; ties stay in input order (they form one threshold anyway).
std::vector<std::size_t> descending_order(const std::vector<double>& scores) {
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  return order;
}

// Cumulative (false positives, true positives) after each distinct threshold, highest first.
struct ThresholdCounts {
  std::vector<double> false_positives, true_positives;
  double positives = 0, negatives = 0;
};

ThresholdCounts threshold_counts(const std::vector<double>& scores,
                                 const std::vector<bool>& positive) {
  ThresholdCounts counts;
  const auto order = descending_order(scores);
  double fp = 0, tp = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    (positive[order[i]] ? tp : fp) += 1;
    const bool last_of_threshold =
        i + 1 == order.size() || scores[order[i + 1]] != scores[order[i]];
    if (last_of_threshold) {
      counts.false_positives.push_back(fp);
      counts.true_positives.push_back(tp);
    }
  }
  counts.positives = tp;
  counts.negatives = fp;
  return counts;
}

std::size_t argmax(const double* row, std::size_t classes) {
  std::size_t best = 0;
  for (std::size_t c = 1; c < classes; ++c)
    if (row[c] > row[best]) best = c;  // strict: the lowest index wins ties
  return best;
}

// Gorodkin's multiclass MCC, as scikit-learn computes it from the confusion matrix.
double multiclass_mcc(const std::vector<std::vector<std::int64_t>>& confusion,
                      const std::vector<double>& true_counts,
                      const std::vector<double>& predicted_counts, double n) {
  double correct = 0;
  for (std::size_t k = 0; k < confusion.size(); ++k)
    correct += static_cast<double>(confusion[k][k]);
  double true_pred = 0, pred_pred = 0, true_true = 0;
  for (std::size_t k = 0; k < confusion.size(); ++k) {
    true_pred += true_counts[k] * predicted_counts[k];
    pred_pred += predicted_counts[k] * predicted_counts[k];
    true_true += true_counts[k] * true_counts[k];
  }
  const double covariance = correct * n - true_pred;
  const double denominator = std::sqrt((n * n - pred_pred) * (n * n - true_true));
  return denominator == 0 ? 0.0 : covariance / denominator;
}

}  // namespace

std::vector<double> average_ranks(const std::vector<double>& values) {
  require_no_nan(values, "average_ranks");
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (std::size_t begin = 0; begin < order.size();) {
    std::size_t end = begin + 1;
    while (end < order.size() && values[order[end]] == values[order[begin]])
      ++end;
    // Positions begin..end-1 hold ranks begin+1..end; each tied value gets their mean.
    const double rank = (static_cast<double>(begin) + 1 + static_cast<double>(end)) / 2;
    for (std::size_t i = begin; i < end; ++i)
      ranks[order[i]] = rank;
    begin = end;
  }
  return ranks;
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size())
    throw Error("pearson: " + std::to_string(x.size()) + " and " + std::to_string(y.size()) +
                " values (expected equal lengths)");
  if (x.size() < 2 || is_constant(x) || is_constant(y)) return kNaN;
  const double mx = mean_of(x), my = mean_of(y);
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxy / std::sqrt(sxx * syy);
}

double auroc(const std::vector<double>& scores, const std::vector<bool>& positive) {
  require_same_size(scores.size(), positive.size(), "auroc");
  require_no_nan(scores, "auroc");
  const auto ranks = average_ranks(scores);
  double positives = 0, positive_rank_sum = 0;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (!positive[i]) continue;
    positives += 1;
    positive_rank_sum += ranks[i];
  }
  const double negatives = static_cast<double>(scores.size()) - positives;
  if (positives == 0 || negatives == 0) return kNaN;
  // Mann-Whitney U of the positives over the negatives; average ranks count a tie as 1/2.
  const double u = positive_rank_sum - positives * (positives + 1) / 2;
  return u / (positives * negatives);
}

double average_precision(const std::vector<double>& scores, const std::vector<bool>& positive) {
  require_same_size(scores.size(), positive.size(), "average_precision");
  require_no_nan(scores, "average_precision");
  const auto counts = threshold_counts(scores, positive);
  if (counts.positives == 0) return kNaN;
  double ap = 0, previous_recall = 0;
  for (std::size_t k = 0; k < counts.true_positives.size(); ++k) {
    const double tp = counts.true_positives[k], fp = counts.false_positives[k];
    const double recall = tp / counts.positives;
    ap += (recall - previous_recall) * tp / (tp + fp);
    previous_recall = recall;
  }
  return ap;
}

PrecisionRecallCurve precision_recall_curve(const std::vector<double>& scores,
                                            const std::vector<bool>& positive) {
  require_same_size(scores.size(), positive.size(), "precision_recall_curve");
  require_no_nan(scores, "precision_recall_curve");
  const auto counts = threshold_counts(scores, positive);
  PrecisionRecallCurve curve;
  if (counts.positives == 0) return curve;
  curve.recall.push_back(0);
  curve.precision.push_back(1);
  for (std::size_t k = 0; k < counts.true_positives.size(); ++k) {
    const double tp = counts.true_positives[k], fp = counts.false_positives[k];
    curve.recall.push_back(tp / counts.positives);
    curve.precision.push_back(tp / (tp + fp));
  }
  return curve;
}

RocCurve roc_curve(const std::vector<double>& scores, const std::vector<bool>& positive) {
  require_same_size(scores.size(), positive.size(), "roc_curve");
  require_no_nan(scores, "roc_curve");
  const auto counts = threshold_counts(scores, positive);
  RocCurve curve;
  curve.false_positive_rate.push_back(0);
  curve.true_positive_rate.push_back(0);
  for (std::size_t k = 0; k < counts.true_positives.size(); ++k) {
    // 0/0 for an absent class gives NaN, which is what the rate is.
    curve.false_positive_rate.push_back(counts.false_positives[k] / counts.negatives);
    curve.true_positive_rate.push_back(counts.true_positives[k] / counts.positives);
  }
  return curve;
}

nlohmann::json ClassificationMetrics::to_json() const {
  nlohmann::json out;
  if (!std::isnan(loss)) out["loss"] = loss;
  out["accuracy"] = number_or_null(accuracy);
  out["balanced_accuracy"] = number_or_null(balanced_accuracy);
  out["mcc"] = number_or_null(mcc);
  out["macro_f1"] = number_or_null(macro_f1);
  out["auroc"] = number_or_null(auroc);
  out["auprc"] = number_or_null(auprc);
  out["confusion"] = confusion;
  return out;
}

ClassificationMetrics classification_metrics(const std::vector<double>& probabilities,
                                             const std::vector<std::int64_t>& labels,
                                             std::size_t classes) {
  const std::size_t n = labels.size();
  if (classes == 0) throw Error("classification metrics: 0 classes (expected at least 1)");
  if (n == 0) throw Error("classification metrics: no examples (expected at least one)");
  if (probabilities.size() != n * classes)
    throw Error("classification metrics: " + std::to_string(probabilities.size()) +
                " probabilities for " + std::to_string(n) + " labels and " +
                std::to_string(classes) + " classes (expected labels x classes)");
  for (std::size_t i = 0; i < n; ++i)
    if (labels[i] < 0 || static_cast<std::size_t>(labels[i]) >= classes)
      throw Error("classification metrics: label " + std::to_string(labels[i]) + " at example " +
                  std::to_string(i) + " (expected 0.." + std::to_string(classes - 1) + ")");

  ClassificationMetrics m;
  m.confusion.assign(classes, std::vector<std::int64_t>(classes, 0));
  for (std::size_t i = 0; i < n; ++i)
    ++m.confusion[labels[i]][argmax(&probabilities[i * classes], classes)];

  std::vector<double> true_counts(classes, 0), predicted_counts(classes, 0);
  double correct = 0;
  for (std::size_t t = 0; t < classes; ++t) {
    for (std::size_t p = 0; p < classes; ++p) {
      true_counts[t] += static_cast<double>(m.confusion[t][p]);
      predicted_counts[p] += static_cast<double>(m.confusion[t][p]);
    }
    correct += static_cast<double>(m.confusion[t][t]);
  }
  const double total = static_cast<double>(n);
  m.accuracy = correct / total;

  double recall_sum = 0, present = 0, f1_sum = 0;
  for (std::size_t k = 0; k < classes; ++k) {
    const double tp = static_cast<double>(m.confusion[k][k]);
    if (true_counts[k] > 0) {
      recall_sum += tp / true_counts[k];
      present += 1;
    }
    // F1 = 2TP / (2TP + FP + FN); the denominator is 0 only for a class never true nor predicted.
    const double f1_denominator = true_counts[k] + predicted_counts[k];
    f1_sum += f1_denominator == 0 ? 0.0 : 2 * tp / f1_denominator;
  }
  m.balanced_accuracy = recall_sum / present;  // present >= 1 because n >= 1
  m.macro_f1 = f1_sum / static_cast<double>(classes);
  m.mcc = multiclass_mcc(m.confusion, true_counts, predicted_counts, total);

  // A diverged model's NaN probabilities cannot be ranked: its ranking metrics are NaN too.
  if (has_nan(probabilities)) return m;
  std::vector<double> scores(n);
  std::vector<bool> positive(n);
  const auto one_vs_rest = [&](std::size_t k) {
    for (std::size_t i = 0; i < n; ++i) {
      scores[i] = probabilities[i * classes + k];
      positive[i] = static_cast<std::size_t>(labels[i]) == k;
    }
  };
  if (classes == 2) {
    one_vs_rest(1);
    m.auroc = auroc(scores, positive);
    m.auprc = average_precision(scores, positive);
    return m;
  }
  double auroc_sum = 0, auprc_sum = 0, averaged = 0;
  for (std::size_t k = 0; k < classes; ++k) {
    if (true_counts[k] == 0 || true_counts[k] == total) continue;  // needs both sides
    one_vs_rest(k);
    auroc_sum += auroc(scores, positive);
    auprc_sum += average_precision(scores, positive);
    averaged += 1;
  }
  if (averaged > 0) {
    m.auroc = auroc_sum / averaged;
    m.auprc = auprc_sum / averaged;
  }
  return m;
}

nlohmann::json MultilabelMetrics::to_json(const std::vector<std::string>& names) const {
  if (names.size() != labels.size())
    throw Error("multi-label metrics: " + std::to_string(names.size()) + " names for " +
                std::to_string(labels.size()) + " labels (expected one name per label)");
  nlohmann::json per_label = nlohmann::json::object();
  for (std::size_t l = 0; l < labels.size(); ++l)
    per_label[names[l]] = {{"positives", labels[l].positives},
                           {"auroc", number_or_null(labels[l].auroc)},
                           {"auprc", number_or_null(labels[l].auprc)},
                           {"accuracy", number_or_null(labels[l].accuracy)}};
  return {{"loss", number_or_null(loss)},
          {"auroc", number_or_null(auroc)},
          {"auprc", number_or_null(auprc)},
          {"accuracy", number_or_null(accuracy)},
          {"single_class_labels", single_class_labels},
          {"labels", per_label}};
}

MultilabelMetrics multilabel_metrics(const std::vector<double>& probabilities,
                                     const std::vector<float>& truth, std::size_t labels) {
  if (labels == 0) throw Error("multi-label metrics: 0 labels (expected at least 1)");
  if (probabilities.size() != truth.size() || truth.size() % labels != 0)
    throw Error("multi-label metrics: " + std::to_string(probabilities.size()) +
                " probabilities and " + std::to_string(truth.size()) + " true values for " +
                std::to_string(labels) + " labels (expected two equal [rows x labels] arrays)");
  const std::size_t n = truth.size() / labels;
  if (n == 0) throw Error("multi-label metrics: no examples (expected at least one)");
  for (std::size_t i = 0; i < truth.size(); ++i)
    if (truth[i] != 0.f && truth[i] != 1.f)
      throw Error("multi-label metrics: true value " + std::to_string(truth[i]) + " at row " +
                  std::to_string(i / labels) + ", label " + std::to_string(i % labels) +
                  " (expected 0 or 1)");

  MultilabelMetrics m;
  m.labels.resize(labels);
  // Clipping keeps a confident wrong answer finite, as the classification loss does.
  constexpr double kFloor = 1e-12;
  double cross_entropy = 0, accuracy_sum = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    const double p = std::clamp(probabilities[i], kFloor, 1 - kFloor);
    cross_entropy -= truth[i] == 1.f ? std::log(p) : std::log(1 - p);
  }
  m.loss = cross_entropy / static_cast<double>(truth.size());

  // A diverged model's NaN probabilities cannot be ranked: its ranking metrics stay NaN.
  const bool rankable = !has_nan(probabilities);
  std::vector<double> scores(n);
  std::vector<bool> positive(n);
  double auroc_sum = 0, auprc_sum = 0, averaged = 0;
  for (std::size_t l = 0; l < labels; ++l) {
    LabelMetrics& label = m.labels[l];
    double correct = 0;
    for (std::size_t i = 0; i < n; ++i) {
      scores[i] = probabilities[i * labels + l];
      positive[i] = truth[i * labels + l] == 1.f;
      label.positives += positive[i] ? 1 : 0;
      correct += (scores[i] > 0.5) == positive[i] ? 1 : 0;
    }
    label.accuracy = correct / static_cast<double>(n);
    accuracy_sum += label.accuracy;
    if (label.positives == 0 || label.positives == static_cast<std::int64_t>(n)) {
      ++m.single_class_labels;  // one class only: neither ranking metric is defined
      continue;
    }
    if (!rankable) continue;
    label.auroc = auroc(scores, positive);
    label.auprc = average_precision(scores, positive);
    auroc_sum += label.auroc;
    auprc_sum += label.auprc;
    averaged += 1;
  }
  m.accuracy = accuracy_sum / static_cast<double>(labels);
  if (averaged > 0) {
    m.auroc = auroc_sum / averaged;
    m.auprc = auprc_sum / averaged;
  }
  return m;
}

nlohmann::json RegressionMetrics::to_json() const {
  return {{"rmse", number_or_null(rmse)},
          {"mae", number_or_null(mae)},
          {"pearson", number_or_null(pearson)},
          {"spearman", number_or_null(spearman)},
          {"r2", number_or_null(r2)}};
}

std::vector<RegressionMetrics> regression_metrics(const std::vector<double>& predictions,
                                                  const std::vector<double>& truth,
                                                  std::size_t targets) {
  if (targets == 0) throw Error("regression metrics: 0 targets (expected at least 1)");
  if (predictions.size() != truth.size() || truth.size() % targets != 0)
    throw Error("regression metrics: " + std::to_string(predictions.size()) + " predictions and " +
                std::to_string(truth.size()) + " true values for " + std::to_string(targets) +
                " targets (expected two equal [rows x targets] arrays)");
  const std::size_t n = truth.size() / targets;
  if (n == 0) throw Error("regression metrics: no examples (expected at least one)");

  std::vector<RegressionMetrics> out(targets);
  std::vector<double> y(n), yhat(n);
  for (std::size_t t = 0; t < targets; ++t) {
    for (std::size_t i = 0; i < n; ++i) {
      y[i] = truth[i * targets + t];
      yhat[i] = predictions[i * targets + t];
    }
    RegressionMetrics& m = out[t];
    double squared = 0, absolute = 0;
    for (std::size_t i = 0; i < n; ++i) {
      squared += (yhat[i] - y[i]) * (yhat[i] - y[i]);
      absolute += std::abs(yhat[i] - y[i]);
    }
    m.rmse = std::sqrt(squared / static_cast<double>(n));
    m.mae = absolute / static_cast<double>(n);
    if (!is_constant(y)) {
      const double mean = mean_of(y);
      double total = 0;
      for (double v : y)
        total += (v - mean) * (v - mean);
      m.r2 = 1 - squared / total;
    }
    if (has_nan(y) || has_nan(yhat)) continue;  // NaN cannot be ranked or correlated
    m.pearson = pearson(yhat, y);
    m.spearman = pearson(average_ranks(yhat), average_ranks(y));
  }
  return out;
}

}  // namespace genolm::train
