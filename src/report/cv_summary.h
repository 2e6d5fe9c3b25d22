#pragma once
// What sums up a cross-validation (train/cross_validation.h) in its folder: every fold's test
// metrics with their mean and standard deviation over the folds (cv.json, cv.tsv), a report page
// with the folds side by side (report.html), and every fold's test predictions gathered into one
// out-of-fold table (cv_predictions.tsv). It reads only what the folds' run folders hold, so a
// resumed cross-validation writes the same summary.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "run/run_layout.h"

namespace genolm::report {

struct CvFold {
  std::size_t number = 0;         // 1-based: the fold's folder is fold_<number>
  std::string value;              // the fold column's value; empty for stratified folds
  std::vector<std::size_t> rows;  // the table's rows it tested on (0-based, in file order)
  nlohmann::json test;            // its test row of metrics (run.json's task.test)
};

// One metric over the folds: each fold's value (NaN where the fold has none), and the mean and the
// sample standard deviation (divisor n - 1) of the finite ones (NaN below 1 and 2 of them).
struct CvMetric {
  std::string name;  // "spearman"; per target or label: "targets.hic_rt.spearman"
  std::vector<double> values;
  double mean = 0, sd = 0;
  std::size_t finite = 0;  // how many folds have a value
};

// Every number of the folds' test rows but their bookkeeping (step, epoch, wall_s), nested names
// joined by dots: the top-level metrics first, then each nested group, names in order.
std::vector<CvMetric> cv_metrics(const std::vector<CvFold>& folds);

// cv.json: `about` (the task kind, how the folds were made...), then every fold and every
// metric's values, mean and standard deviation.
nlohmann::json cv_summary_json(const std::vector<CvFold>& folds, const nlohmann::json& about);
// cv.tsv: "fold" and each metric; a row per fold, then the rows "mean" and "sd".
std::string cv_summary_table(const std::vector<CvFold>& folds);

// The folds' test_predictions.tsv as one table in the order of the table's rows, a "fold" column
// after the id. Throws genolm::Error naming the file when a fold's predictions are missing or do
// not have one line per test row.
std::string cv_prediction_table(const run::RunLayout& layout, const std::vector<CvFold>& folds);

// Writes cv.json, cv.tsv, cv_predictions.tsv and report.html into `layout`'s folder.
void write_cv_summary(const run::RunLayout& layout, const std::vector<CvFold>& folds,
                      const nlohmann::json& about);

}  // namespace genolm::report
