// A cross-validation's summary (report/cv_summary.h): each metric's mean and sample standard
// deviation over the folds, by hand; the table's rows; the out-of-fold predictions in table order.
#include <gtest/gtest.h>

#include <cmath>

#include "report/cv_summary.h"
#include "support/test_files.h"
#include "util/files.h"

namespace genolm::report {
namespace {

std::vector<CvFold> three_folds() {
  // Regression-like test rows: top-level means and a per-target group; fold 3 lacks a pearson.
  const auto row = [](double spearman, double r2, nlohmann::json pearson) {
    return nlohmann::json{{"step", 40},
                          {"split", "test"},
                          {"epoch", 3},
                          {"wall_s", 1.5},
                          {"loss", 0.5},
                          {"spearman", spearman},
                          {"r2", r2},
                          {"pearson", pearson},
                          {"targets", {{"y", {{"spearman", spearman}, {"r2", r2}}}}}};
  };
  return {{.number = 1, .value = "", .rows = {0, 3}, .test = row(0.5, 0.1, 0.4)},
          {.number = 2, .value = "", .rows = {1, 4}, .test = row(0.7, 0.3, 0.6)},
          {.number = 3, .value = "", .rows = {2}, .test = row(0.9, 0.2, nullptr)}};
}

const CvMetric& find(const std::vector<CvMetric>& metrics, const std::string& name) {
  for (const auto& metric : metrics)
    if (metric.name == name) return metric;
  throw std::runtime_error("no metric " + name);
}

TEST(CvSummary, MeanAndSampleDeviationOverTheFoldsThatHaveAValue) {
  const auto metrics = cv_metrics(three_folds());
  // Bookkeeping is not a metric; the top level comes first, then the nested group.
  std::vector<std::string> names;
  for (const auto& metric : metrics)
    names.push_back(metric.name);
  EXPECT_EQ(names, (std::vector<std::string>{"loss", "pearson", "r2", "spearman", "targets.y.r2",
                                             "targets.y.spearman"}));
  const auto& spearman = find(metrics, "spearman");
  EXPECT_DOUBLE_EQ(spearman.mean, 0.7);
  EXPECT_NEAR(spearman.sd, 0.2, 1e-12);  // sqrt((0.04 + 0 + 0.04) / 2)
  EXPECT_EQ(spearman.values, (std::vector<double>{0.5, 0.7, 0.9}));
  const auto& pearson = find(metrics, "pearson");
  EXPECT_EQ(pearson.finite, 2u);
  EXPECT_DOUBLE_EQ(pearson.mean, 0.5);
  EXPECT_NEAR(pearson.sd, std::sqrt(0.02), 1e-12);
  EXPECT_TRUE(std::isnan(pearson.values[2]));
  EXPECT_NEAR(find(metrics, "targets.y.r2").mean, 0.2, 1e-12);
  EXPECT_DOUBLE_EQ(find(metrics, "loss").sd, 0.0);
}

TEST(CvSummary, JsonAndTableHoldEveryFoldThenMeanAndSd) {
  const auto folds = three_folds();
  const auto json = cv_summary_json(folds, {{"kind", "regression"}});
  EXPECT_EQ(json.at("kind"), "regression");
  ASSERT_EQ(json.at("folds").size(), 3u);
  EXPECT_EQ(json.at("folds")[2].at("dir"), "fold_3");
  EXPECT_EQ(json.at("folds")[2].at("test_rows"), 1);
  EXPECT_DOUBLE_EQ(json.at("metrics").at("spearman").at("mean").get<double>(), 0.7);
  EXPECT_TRUE(json.at("metrics").at("pearson").at("folds")[2].is_null());

  const std::string table = cv_summary_table(folds);
  EXPECT_EQ(table.substr(0, table.find('\n')),
            "fold\tloss\tpearson\tr2\tspearman\ttargets.y.r2\ttargets.y.spearman");
  EXPECT_NE(table.find("\n3\t0.5\tnan\t0.2\t0.9\t0.2\t0.9\n"), std::string::npos) << table;
  EXPECT_NE(table.find("\nmean\t0.5\t0.5\t0.2\t0.7\t"), std::string::npos) << table;
  EXPECT_NE(table.find("\nsd\t0\t"), std::string::npos) << table;
}

TEST(CvSummary, OutOfFoldPredictionsFollowTheTablesRowsWithTheirFold) {
  test::TempDir dir;
  const run::RunLayout layout(dir.path());
  const auto folds = three_folds();
  const std::string header = "id\ty\ty_pred\n";
  std::filesystem::create_directories(layout.cv_fold(1).dir());
  std::filesystem::create_directories(layout.cv_fold(2).dir());
  std::filesystem::create_directories(layout.cv_fold(3).dir());
  test::write_text(layout.cv_fold(1).test_predictions(), header + "a\t1\t1.1\nd\t4\t3.9\n");
  test::write_text(layout.cv_fold(2).test_predictions(), header + "b\t2\t2.2\ne\t5\t4.8\n");
  test::write_text(layout.cv_fold(3).test_predictions(), header + "c\t3\t3.3\n");
  EXPECT_EQ(cv_prediction_table(layout, folds),
            "id\tfold\ty\ty_pred\na\t1\t1\t1.1\nb\t2\t2\t2.2\nc\t3\t3\t3.3\nd\t1\t4\t3.9\n"
            "e\t2\t5\t4.8\n");

  // A fold whose predictions lack a row is an error naming its file.
  test::write_text(layout.cv_fold(2).test_predictions(), header + "b\t2\t2.2\n");
  const auto error = test::error_of([&] { cv_prediction_table(layout, folds); });
  EXPECT_NE(error.find("fold_2/test_predictions.tsv: 1 prediction lines, expected 2"),
            std::string::npos)
      << error;

  test::write_text(layout.cv_fold(2).test_predictions(), header + "b\t2\t2.2\ne\t5\t4.8\n");
  write_cv_summary(layout, folds, {{"kind", "regression"}});
  EXPECT_EQ(read_json_file(layout.cv_summary()).at("folds").size(), 3u);
  const auto html = test::read_text(layout.report());
  EXPECT_NE(html.find("href=\"fold_3/report.html\""), std::string::npos);
  EXPECT_NE(html.find("0.7 \u00b1 0.2"), std::string::npos) << html;  // targets.y.spearman
}

}  // namespace
}  // namespace genolm::report
