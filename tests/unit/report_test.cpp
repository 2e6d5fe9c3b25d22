#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "genolm/error.h"
#include "report/metrics_log.h"
#include "report/report_html.h"
#include "report/report_parts.h"
#include "report/svg_plot.h"
#include "support/test_files.h"
#include "train/lr_plan.h"

namespace genolm::report {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Well-formed enough for a browser: one <svg> element, and no NaN or inf leaked into coordinates.
void expect_clean_svg(const std::string& svg) {
  EXPECT_EQ(svg.rfind("<svg", 0), 0u) << svg;
  EXPECT_TRUE(svg.ends_with("</svg>\n"));
  EXPECT_FALSE(contains(svg, "nan")) << svg;
  EXPECT_FALSE(contains(svg, "inf")) << svg;
}

TEST(MetricsLog, AppendThenReadRoundTrip) {
  test::TempDir dir;
  {
    MetricsLog log(dir / "metrics.jsonl");
    log.append({{"step", 10}, {"split", "train"}, {"loss", 1.5}, {"lr", 0.002}});
    log.append({{"step", 10}, {"split", "valid"}, {"loss", 1.4}, {"perplexity", 4.05}});
  }
  MetricsLog reopened(dir / "metrics.jsonl");  // append mode: the first rows stay
  reopened.append({{"step", 20}, {"split", "train"}, {"loss", 1.25}});
  std::size_t skipped = 99;
  const auto rows = read_metrics(dir / "metrics.jsonl", &skipped);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(skipped, 0u);
  EXPECT_EQ(rows[0]["step"], 10);
  EXPECT_EQ(rows[1]["split"], "valid");
  EXPECT_DOUBLE_EQ(rows[2]["loss"].get<double>(), 1.25);
}

TEST(MetricsLog, RowsMustBeObjects) {
  test::TempDir dir;
  MetricsLog log(dir / "metrics.jsonl");
  EXPECT_TRUE(contains(test::error_of([&] {
                         log.append(nlohmann::json::array({1, 2}));
                       }),
                       "expected an object"));
}

TEST(MetricsLog, TruncatedLastLineIsSkipped) {
  test::TempDir dir;
  test::write_text(
      dir / "metrics.jsonl",
      "{\"step\": 1, \"loss\": 2.0}\n{\"step\": 2, \"loss\": 1.9}\n{\"step\": 3, \"lo");
  std::size_t skipped = 0;
  EXPECT_EQ(read_metrics(dir / "metrics.jsonl", &skipped).size(), 2u);
  EXPECT_EQ(skipped, 1u);
  // A resumed run's next row starts on a line of its own instead of gluing onto the torn one.
  MetricsLog(dir / "metrics.jsonl").append({{"step", 3}, {"loss", 1.8}});
  const auto rows = read_metrics(dir / "metrics.jsonl", &skipped);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2]["step"], 3);
  EXPECT_EQ(skipped, 1u);
}

TEST(MetricsLog, MissingFileHasNoRows) {
  test::TempDir dir;
  EXPECT_TRUE(read_metrics(dir / "absent.jsonl").empty());
  EXPECT_NO_THROW(truncate_metrics_after(dir / "absent.jsonl", 5));
}

TEST(MetricsLog, TruncateKeepsStepsUpToN) {
  test::TempDir dir;
  {
    MetricsLog log(dir / "metrics.jsonl");
    for (int step = 10; step <= 50; step += 10) {
      log.append({{"step", step}, {"split", "train"}, {"loss", 2.0 - step / 100.0}});
      log.append({{"step", step}, {"split", "valid"}, {"loss", 2.1 - step / 100.0}});
    }
  }
  truncate_metrics_after(dir / "metrics.jsonl", 30);
  const auto rows = read_metrics(dir / "metrics.jsonl");
  ASSERT_EQ(rows.size(), 6u);
  for (const auto& row : rows)
    EXPECT_LE(row["step"].get<int>(), 30);
  EXPECT_FALSE(std::filesystem::exists(dir / "metrics.jsonl.tmp"));
  truncate_metrics_after(dir / "metrics.jsonl", 0);
  EXPECT_TRUE(read_metrics(dir / "metrics.jsonl").empty());
}

TEST(RunReport, ShowsPlotsPriorNameAndEscapedRecipe) {
  test::TempDir dir;
  {
    MetricsLog log(dir / "metrics.jsonl");
    for (int step = 0; step <= 200; step += 20) {
      log.append({{"step", step},
                  {"split", "train"},
                  {"loss", 4.0 - step / 100.0},
                  {"lr", 0.002},
                  {"tokens_per_s", 2400.5},
                  {"wall_s", step * 0.3}});
      if (step % 100 == 0)
        log.append({{"step", step},
                    {"split", "valid"},
                    {"loss", 3.9 - step / 100.0},
                    {"perplexity", std::exp(3.9 - step / 100.0)},
                    {"accuracy", 0.41}});
    }
    // Rows the report does not plot, or cannot read, are no error.
    log.append({{"step", 200}, {"split", "test"}, {"loss", 2.0}});
    log.append({{"step", "late"}, {"split", 3}, {"loss", "high"}});
  }
  test::write_text(dir / "config.toml", "[train]\nnote = \"loss < prior & more\"\n");
  test::write_text(dir / "run.json", R"({"name": "human-3mer", "status": "finished",
      "stride_prior": 4.1588830833596715, "tokenizer": {"kind": "kmer", "k": 3, "stride": 3},
      "model": {"arch": "awd_lstm", "parameters": 24000000}})");
  write_run_report(dir.path());
  const std::string html = test::read_text(dir / "report.html");
  EXPECT_TRUE(contains(html, "<svg"));
  EXPECT_TRUE(contains(html, "stride prior ln(4^s) = 4.159"));
  EXPECT_TRUE(contains(html, "human-3mer"));
  EXPECT_TRUE(contains(html, "loss &lt; prior &amp; more"));
  EXPECT_FALSE(contains(html, "loss < prior"));
  EXPECT_TRUE(contains(html, "awd_lstm"));
  EXPECT_TRUE(contains(html, "24,000,000"));
  EXPECT_TRUE(contains(html, "1.9 at step 200"));  // best valid loss
  EXPECT_FALSE(contains(html, "<script"));
  EXPECT_FALSE(std::filesystem::exists(dir / "report.html.tmp"));
}

TEST(RunReport, EmptyFolderStillRenders) {
  test::TempDir dir;
  ASSERT_NO_THROW(write_run_report(dir.path()));
  const std::string html = test::read_text(dir / "report.html");
  EXPECT_TRUE(contains(html, "<svg"));
  EXPECT_TRUE(contains(html, "metrics.jsonl is missing"));
  EXPECT_TRUE(contains(html, "run.json is missing"));
  EXPECT_TRUE(contains(html, "config.toml is missing"));
}

TEST(RunReport, EmptyAndMalformedInputsAreNoted) {
  test::TempDir dir;
  test::write_text(dir / "metrics.jsonl", "");
  test::write_text(dir / "config.toml", "");
  test::write_text(dir / "run.json", "{\"name\": ");
  ASSERT_NO_THROW(write_run_report(dir.path()));
  const std::string html = test::read_text(dir / "report.html");
  EXPECT_TRUE(contains(html, "metrics.jsonl has no rows yet"));
  EXPECT_TRUE(contains(html, "config.toml is empty"));
  EXPECT_TRUE(contains(html, "run.json is not valid JSON"));
}

TEST(RunReport, MissingFolderIsAnError) {
  test::TempDir dir;
  EXPECT_TRUE(contains(test::error_of([&] { write_run_report(dir / "absent"); }), "absent"));
}

// Fine-tuning's plan: three stages of 20 steps over 4 groups, unfreezing one more each stage.
nlohmann::json three_stage_plan() {
  train::LrPlan plan;  // the default shape: one-cycle
  plan.groups = train::layer_group_names(4, true);
  plan.lr_div = 2.6;
  plan.stages = {{.first_step = 0, .steps = 20, .lr = 2e-2, .trainable = 1},
                 {.first_step = 20, .steps = 20, .lr = 1e-2, .trainable = 2},
                 {.first_step = 40, .steps = 20, .lr = 5e-3, .trainable = 4}};
  return plan.to_json();
}

// How many points the polylines of an SVG join.
std::size_t polyline_points(const std::string& svg) {
  std::size_t points = 0;
  const std::string opening = "points=\"";
  for (auto at = svg.find(opening); at != std::string::npos; at = svg.find(opening, at + 1)) {
    const auto end = svg.find('"', at + opening.size());
    const std::string list = svg.substr(at + opening.size(), end - at - opening.size());
    points += 1 + static_cast<std::size_t>(std::count(list.begin(), list.end(), ' '));
  }
  return points;
}

// A classification run of three epochs, tested unless it is still training; predictions are
// written by the caller.
void write_classification_run(const test::TempDir& dir, bool tested = true) {
  test::write_text(dir / "run.json", R"({"name": "splice-ft", "status": "finished",
      "device": "cpu", "task": {"kind": "classification", "classes": ["EI", "IE", "N"],
      "metric": "accuracy", "best": {"epoch": 2, "step": 40, "value": 0.9},
      "examples": {"test": 152, "train": 1200, "valid": 150}},
      "lr_plan": )" + three_stage_plan().dump() +
                                         "}");
  test::write_text(dir / "config.toml", "[finetune]\nepochs = 3\n");
  MetricsLog log(dir / "metrics.jsonl");
  for (int step = 5; step <= 60; step += 5)
    log.append({{"step", step},
                {"split", "train"},
                {"loss", 1.1 - step / 100.0},
                {"lr", 0.001},
                {"grad_norm", 0.5},
                {"wall_s", step * 0.5},
                {"epoch", (step - 1) / 20 + 1},
                {"stage", 1}});
  for (int epoch = 1; epoch <= 3; ++epoch)
    log.append({{"step", 20 * epoch},
                {"split", "valid"},
                {"epoch", epoch},
                {"loss", 0.9 - epoch / 10.0},
                {"accuracy", 0.8 + epoch / 100.0},
                {"balanced_accuracy", 0.79},
                {"mcc", 0.7},
                {"macro_f1", 0.78},
                {"auroc", 0.93},
                {"auprc", nullptr},
                {"confusion", {{9, 1, 0}, {1, 8, 1}, {0, 2, 18}}}});
  if (!tested) return;
  log.append({{"step", 60},
              {"split", "test"},
              {"epoch", 3},
              {"loss", 0.41},
              {"accuracy", 0.8765},
              {"balanced_accuracy", 0.85},
              {"mcc", 0.8},
              {"macro_f1", 0.84},
              {"auroc", 0.95},
              {"auprc", 0.9},
              {"confusion", {{31, 2, 1}, {3, 27, 4}, {0, 5, 52}}}});
}

constexpr const char* kClassPredictions =
    "id\tlabel\tpredicted\tprob_EI\tprob_IE\tprob_N\n"
    "s1\tEI\tEI\t0.8\t0.1\t0.1\n"
    "s2\tEI\tIE\t0.4\t0.5\t0.1\n"
    "s3\tIE\tIE\t0.1\t0.7\t0.2\n"
    "s4\tIE\tN\t0.1\t0.3\t0.6\n"
    "s5\tN\tN\t0.05\t0.05\t0.9\n"
    "s6\tN\tN\t0.2\t0.1\t0.7\n";

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1))
    ++count;
  return count;
}

TEST(RunReport, ClassificationShowsConfusionRocAndTestMetrics) {
  test::TempDir dir;
  write_classification_run(dir);
  test::write_text(dir / "test_predictions.tsv", kClassPredictions);
  write_run_report(dir.path());
  const std::string html = test::read_text(dir / "report.html");
  // The summary: kind, classes, best epoch, test metrics, and the rows every run has.
  EXPECT_TRUE(contains(html, "<td>classification</td>"));
  EXPECT_TRUE(contains(html, "<td>EI, IE, N</td>"));
  EXPECT_TRUE(contains(html, "<td>train 1200 / valid 150 / test 152</td>"));
  EXPECT_TRUE(contains(html, "epoch 2 (step 40): accuracy 0.9"));
  EXPECT_TRUE(contains(html, "accuracy 0.8765"));
  EXPECT_TRUE(contains(html, "<td>cpu</td>"));
  EXPECT_TRUE(contains(html, "0:00:30 (h:mm:ss)"));
  EXPECT_FALSE(contains(html, "Stride prior"));
  // Metrics per epoch, the best row marked; a null metric shows as a dash.
  EXPECT_TRUE(contains(html, "<th>valid (best)</th>"));
  EXPECT_TRUE(contains(html, ">0.8765</td>"));
  EXPECT_TRUE(contains(html, "<th>balanced_accuracy</th>"));
  // The test confusion matrix: class names on both sides, counts in cells shaded by row share.
  EXPECT_TRUE(contains(html, "Confusion matrix (test)"));
  EXPECT_TRUE(contains(html, "<th>true \\ predicted</th><th>EI</th><th>IE</th><th>N</th>"));
  EXPECT_TRUE(contains(html, "<tr><th>IE</th>"));
  EXPECT_TRUE(
      contains(html, "rgba(31, 119, 180, 0.912); color: white;\" title=\"91.2% of true EI\">31<"));
  EXPECT_TRUE(contains(html, ">52</td>"));
  // One ROC curve per class against the rest, and the diagonal.
  EXPECT_TRUE(contains(html, "<title>ROC curves (test)</title>"));
  EXPECT_TRUE(contains(html, "EI vs rest (AUROC 1)"));
  EXPECT_TRUE(contains(html, "N vs rest (AUROC "));
  EXPECT_TRUE(contains(html, ">chance<"));
  // Precision and recall per class, from the test confusion matrix: EI 31 of 34 either way.
  EXPECT_TRUE(contains(html, "Precision and recall by class (test)"));
  EXPECT_TRUE(contains(html,
                       "<tr><th>EI</th><td class=\"number\">0.9118</td><td "
                       "class=\"number\">0.9118</td><td class=\"number\">0.9118</td><td "
                       "class=\"number\">34</td><td class=\"number\">34</td></tr>"));
  EXPECT_TRUE(contains(html, "<tr><th>N</th><td class=\"number\">0.9123</td>"));
  // Precision-recall curves, average precision in the legend.
  EXPECT_TRUE(contains(html, "<title>Precision-recall curves (test)</title>"));
  EXPECT_TRUE(contains(html, "EI vs rest (AP 1)"));
  // The worst predictions: lowest probability of the true class first, ties in file order.
  const auto s4 = html.find(
      "<tr><td>s4</td><td>IE</td><td>N</td><td class=\"number\">0.3</td>"
      "<td class=\"number\">0.6</td></tr>");
  const auto s2 = html.find("<tr><td>s2</td><td>EI</td><td>IE</td><td class=\"number\">0.4</td>");
  const auto s3 = html.find("<tr><td>s3</td>"), s6 = html.find("<tr><td>s6</td>");
  ASSERT_NE(s4, std::string::npos);
  EXPECT_TRUE(s4 < s2 && s2 < s3 && s3 < s6);
  EXPECT_TRUE(contains(html, "<th>test (weights of epoch 3)</th>"));
  EXPECT_TRUE(contains(html, "weights of epoch 3: accuracy 0.8765"));
  EXPECT_TRUE(contains(html, "<title>Validation accuracy</title>"));
  EXPECT_TRUE(contains(html, "test accuracy = 0.8765"));
  EXPECT_FALSE(contains(html, "class=\"notes\"")) << "a whole run needs no notes";
  EXPECT_FALSE(contains(html, "<script"));
}

TEST(RunReport, LearningRateIsEveryStepOfEveryGroupWithTheStagesMarked) {
  const nlohmann::json run = {{"status", "finished"}, {"lr_plan", three_stage_plan()}};
  // Logged every 10 steps, and stopped early after step 45 of 60.
  std::vector<nlohmann::json> rows;
  for (int step = 10; step <= 45; step += 10)
    rows.push_back({{"step", step}, {"split", "train"}, {"lr", 0.01}});
  rows.push_back({{"step", 45}, {"split", "train"}, {"lr", 0.004}});
  const auto train = split_rows(rows, "train");
  std::vector<std::string> notes;
  const std::string svg = learning_rate_plot(run, train, notes);
  expect_clean_svg(svg);
  EXPECT_TRUE(notes.empty());
  EXPECT_TRUE(contains(svg, "<title>Learning rate by layer group, every step</title>"));
  // Every step of every group: 60 steps x 4 groups, frozen groups drawn at 0.
  EXPECT_EQ(polyline_points(svg), 60u * 4u);
  for (const char* group : {">head<", ">layer 2<", ">layer 1<", ">embedding<"})
    EXPECT_TRUE(contains(svg, group)) << group;
  EXPECT_TRUE(contains(svg, ">stage 2: top 2 of 4<"));
  EXPECT_TRUE(contains(svg, ">stage 3: all groups<"));
  EXPECT_TRUE(contains(svg, ">stopped at step 45 (finished)<"));
  EXPECT_TRUE(contains(svg, ">logged (top group)<"));
  EXPECT_EQ(count_of(svg, "stroke-dasharray=\"3 3\""), 3u);  // two stages and the stop

  // A run from before plans were recorded: the logged rates, and a note that says so.
  std::vector<std::string> old_notes;
  const std::string old = learning_rate_plot(nlohmann::json::object(), train, old_notes);
  EXPECT_TRUE(contains(old, "<title>Learning rate (logged steps)</title>"));
  ASSERT_EQ(old_notes.size(), 1u);
  EXPECT_TRUE(contains(old_notes[0], "records no \"lr_plan\""));
  // A malformed plan is no crash: its error is the note.
  std::vector<std::string> bad_notes;
  nlohmann::json bad = run;
  bad["lr_plan"]["stages"][2]["first_step"] = 41;
  learning_rate_plot(bad, train, bad_notes);
  ASSERT_EQ(bad_notes.size(), 1u);
  EXPECT_TRUE(contains(bad_notes[0], "stage 3 starts at step 41")) << bad_notes[0];
}

TEST(RunReport, BinaryRocIsOneCurveWithItsAuroc) {
  test::TempDir dir;
  test::write_text(dir / "run.json", R"({"task": {"kind": "classification",
      "classes": ["neg", "pos"], "metric": "auroc"}})");
  test::write_text(dir / "test_predictions.tsv",
                   "id\tlabel\tpredicted\tprob_neg\tprob_pos\n"
                   "a\tpos\tpos\t0.1\t0.9\n"
                   "b\tpos\tneg\t0.6\t0.4\n"
                   "c\tneg\tneg\t0.6\t0.4\n"
                   "d\tneg\tneg\t0.8\t0.2\n");
  write_run_report(dir.path());
  const std::string html = test::read_text(dir / "report.html");
  EXPECT_TRUE(contains(html, "pos vs neg (AUROC 0.875)"));  // the tie counts one half
  // .9 pos, then .4 tied (pos, neg), .2 neg: 1/2 * 1 + 1/2 * 2/3.
  EXPECT_TRUE(contains(html, "pos vs neg (AP 0.8333)"));
  EXPECT_TRUE(contains(html, "chance (share of positives 0.5)"));
  EXPECT_FALSE(contains(html, "vs rest"));
  EXPECT_TRUE(contains(html, "metrics.jsonl is missing"));
}

TEST(RunReport, RocPointsCountTiesAsHalf) {
  const RocPoints roc = roc_points({0.9, 0.8, 0.8, 0.3}, {true, true, false, false});
  EXPECT_EQ(roc.false_positive_rate, (std::vector<double>{0, 0, 0.5, 1}));
  EXPECT_EQ(roc.true_positive_rate, (std::vector<double>{0, 0.5, 1, 1}));
  EXPECT_DOUBLE_EQ(roc.auroc, 0.875);
  EXPECT_DOUBLE_EQ(roc_points({0.1, 0.2, 0.3}, {false, false, true}).auroc, 1.0);
  EXPECT_DOUBLE_EQ(roc_points({0.5, 0.5}, {true, false}).auroc, 0.5);
  const RocPoints one_class = roc_points({0.1, 0.2}, {true, true});
  EXPECT_TRUE(std::isnan(one_class.auroc));
  EXPECT_TRUE(one_class.false_positive_rate.empty());
}

TEST(RunReport, RegressionShowsAScatterPlotPerTarget) {
  test::TempDir dir;
  test::write_text(dir / "run.json", R"({"name": "rt-tm", "status": "running",
      "task": {"kind": "regression", "targets": ["hic_rt", "fab_tm"], "metric": "r2"},
      "lr_plan": )" + three_stage_plan().dump() +
                                         "}");
  test::write_text(dir / "config.toml", "[finetune]\nepochs = 2\n");
  {
    MetricsLog log(dir / "metrics.jsonl");
    const nlohmann::json per_target = {
        {"hic_rt",
         {{"rmse", 0.3}, {"mae", 0.2}, {"pearson", 0.9}, {"spearman", 0.88}, {"r2", 0.81}}},
        {"fab_tm",
         {{"rmse", 2.5}, {"mae", 2.0}, {"pearson", 0.7}, {"spearman", 0.69}, {"r2", 0.47}}}};
    for (int epoch = 1; epoch <= 2; ++epoch) {
      log.append({{"step", 10 * epoch}, {"split", "train"}, {"loss", 1.0 / epoch}, {"lr", 1e-3}});
      log.append({{"step", 10 * epoch},
                  {"split", "valid"},
                  {"epoch", epoch},
                  {"loss", 0.9 / epoch},
                  {"rmse", 1.4},
                  {"mae", 1.1},
                  {"pearson", 0.8},
                  {"spearman", 0.78},
                  {"r2", 0.6 + epoch / 100.0},
                  {"targets", per_target}});
    }
    log.append({{"step", 20},
                {"split", "test"},
                {"epoch", 2},
                {"loss", 0.5},
                {"rmse", 1.3},
                {"mae", 1.0},
                {"pearson", 0.8},
                {"spearman", 0.79},
                {"r2", 0.6432},
                {"targets", per_target}});
  }
  std::string tsv = "id\thic_rt\thic_rt_pred\tfab_tm\tfab_tm_pred\n";
  for (int i = 0; i < 20; ++i) {
    const std::string fab_pred = i == 3 ? "nan" : std::to_string(61 + i);  // unreadable: skipped
    tsv += std::to_string(i) + "\t" + std::to_string(i * 0.1) + "\t" +
           std::to_string(i * 0.1 + 0.05) + "\t" + std::to_string(60 + i) + "\t" + fab_pred + "\n";
  }
  test::write_text(dir / "test_predictions.tsv", tsv);
  write_run_report(dir.path());
  const std::string html = test::read_text(dir / "report.html");
  EXPECT_TRUE(contains(html, "<td>hic_rt, fab_tm</td>"));
  EXPECT_TRUE(contains(html, "epoch 2 (step 20): r2 0.62 (ranked from metrics.jsonl)"));
  EXPECT_TRUE(contains(html, "weights of epoch 2: r2 0.6432"));
  EXPECT_TRUE(contains(html, "<th>test (weights of epoch 2)</th>"));
  // rmse and mae in two units are never averaged: only the per-target table shows them (the
  // logged means, 1.4 and 1.1 valid, 1.3 and 1 test, are not shown).
  EXPECT_EQ(count_of(html, "<th>rmse</th>"), 1u);
  EXPECT_FALSE(contains(html, "rmse 1.3"));
  EXPECT_TRUE(contains(html, "never averaged over targets"));
  EXPECT_TRUE(contains(html, "Metrics by target (test)"));
  EXPECT_TRUE(contains(html, "<title>hic_rt</title>"));
  EXPECT_TRUE(contains(html, "<title>fab_tm</title>"));
  EXPECT_TRUE(contains(html, "test, n = 20, R\u00b2 0.81"));
  EXPECT_TRUE(contains(html, "test, n = 19, R\u00b2 0.47"));  // the NaN prediction is left out
  EXPECT_EQ(count_of(html, ">y = x<"), 2u);
  // Worst predictions per target in its own units: fab_tm is off by 1 everywhere, so its rows
  // come in file order; hic_rt is off by 0.05 everywhere.
  EXPECT_TRUE(contains(html, "Worst-predicted test examples"));
  EXPECT_TRUE(contains(html,
                       "<tr><td>fab_tm</td><td>0</td><td class=\"number\">60</td>"
                       "<td class=\"number\">61</td><td class=\"number\">1</td></tr>"));
  EXPECT_EQ(count_of(html, "<tr><td>fab_tm</td>"), 10u);
  EXPECT_EQ(count_of(html, "<tr><td>hic_rt</td>"), 10u);
  EXPECT_GE(count_of(html, "r=\"2.5\""), 39u);
  EXPECT_FALSE(contains(html, "Confusion matrix"));
  EXPECT_FALSE(contains(html, "class=\"notes\""));
}

TEST(RunReport, FinetuneWithoutPredictionsNotesIt) {
  test::TempDir dir;
  write_classification_run(dir);
  ASSERT_NO_THROW(write_run_report(dir.path()));
  const std::string html = test::read_text(dir / "report.html");
  EXPECT_TRUE(contains(html, "test_predictions.tsv is missing"));
  EXPECT_TRUE(contains(html, ">31</td>"));  // the confusion matrix comes from metrics.jsonl
  EXPECT_TRUE(contains(html, "accuracy 0.8765"));
  EXPECT_FALSE(contains(html, "ROC curves (test)"));
  EXPECT_FALSE(contains(html, "Worst-predicted"));
}

TEST(RunReport, FinetuneStillTrainingShowsTheLastValidEpoch) {
  test::TempDir dir;
  write_classification_run(dir, /*tested=*/false);
  write_run_report(dir.path());
  const std::string html = test::read_text(dir / "report.html");
  EXPECT_TRUE(contains(html, "Confusion matrix (valid, epoch 3)"));
  EXPECT_TRUE(contains(html, ">18</td>"));
  EXPECT_TRUE(contains(html, "no test row in metrics.jsonl yet"));
  EXPECT_TRUE(contains(html, "No test predictions yet"));
  EXPECT_FALSE(contains(html, "class=\"notes\"")) << "a run in progress is not at fault";
}

TEST(RunReport, MalformedFinetuneInputsAreNoted) {
  test::TempDir dir;
  // No classes (the header names them), a torn confusion matrix, a torn and an odd TSV line.
  test::write_text(dir / "run.json", R"({"task": {"kind": "classification", "best": 7}})");
  {
    MetricsLog log(dir / "metrics.jsonl");
    log.append({{"step", 10},
                {"split", "valid"},
                {"epoch", 1},
                {"accuracy", 0.5},
                {"confusion", {{1, 2}, {3}}}});
    log.append({{"step", 20}, {"split", "test"}, {"epoch", "two"}, {"confusion", "none"}});
  }
  test::write_text(dir / "test_predictions.tsv",
                   "id\tlabel\tpredicted\tprob_a\tprob_b\n"
                   "1\ta\ta\t0.9\n"
                   "2\tc\ta\t0.9\t0.1\n"
                   "3\ta\ta\t0.9\tx\n"
                   "4\tb\tb\t0.2\t0.8\r\n");
  ASSERT_NO_THROW(write_run_report(dir.path()));
  const std::string html = test::read_text(dir / "report.html");
  EXPECT_TRUE(contains(html, "lists no classes"));
  EXPECT_TRUE(contains(html, "names no &quot;metric&quot;"));
  EXPECT_TRUE(contains(html, "not a square table of counts"));
  EXPECT_TRUE(contains(html, "1 line(s) of test_predictions.tsv"));
  EXPECT_TRUE(contains(html, "1 row(s) of test_predictions.tsv have a label"));
  EXPECT_TRUE(contains(html, "<td>a, b</td>"));
  EXPECT_TRUE(contains(html, "epoch 1 (step 10): accuracy 0.5 (ranked from metrics.jsonl)"));
  EXPECT_TRUE(contains(html, "only positives or only negatives of b"));
  EXPECT_TRUE(contains(html, "No ROC curve to draw"));
  EXPECT_FALSE(contains(html, "nan\"")) << "no NaN leaks into the svg";
}

TEST(RunReport, MultilabelShowsAPerLabelTableAndNotesSingleClassLabels) {
  test::TempDir dir;
  std::vector<std::string> labels;
  for (int i = 0; i < 14; ++i)
    labels.push_back("mark" + std::to_string(i));
  test::write_text(dir / "run.json",
                   nlohmann::json({{"task",
                                    {{"kind", "multilabel"},
                                     {"labels", labels},
                                     {"metric", "auroc"},
                                     {"report_metrics", {"auroc", "auprc", "accuracy"}}}},
                                   {"lr_plan", three_stage_plan()}})
                       .dump());
  test::write_text(dir / "config.toml", "[task]\nkind = \"multilabel\"\n");
  nlohmann::json per_label = nlohmann::json::object();
  for (int i = 0; i < 14; ++i)
    per_label[labels[i]] = {
        {"positives", i == 13 ? 0 : 5 + i},
        {"auroc", i == 13 ? nlohmann::json(nullptr) : nlohmann::json(0.5 + i / 100.0)},
        {"auprc", i == 13 ? nlohmann::json(nullptr) : nlohmann::json(0.25)},
        {"accuracy", 0.875}};
  {
    MetricsLog log(dir / "metrics.jsonl");
    log.append({{"step", 10},
                {"split", "valid"},
                {"epoch", 1},
                {"loss", 0.4},
                {"auroc", 0.61},
                {"auprc", 0.3},
                {"accuracy", 0.8},
                {"single_class_labels", 2},
                {"labels", per_label}});
    log.append({{"step", 10},
                {"split", "test"},
                {"epoch", 1},
                {"loss", 0.41},
                {"auroc", 0.6789},
                {"auprc", 0.25},
                {"accuracy", 0.875},
                {"single_class_labels", 1},
                {"labels", per_label}});
  }
  std::string tsv = "id";
  for (const auto& label : labels)
    tsv += "\t" + label;
  for (const auto& label : labels)
    tsv += "\tprob_" + label;
  // r1 is right on every label; r2 calls mark3 at 0.95 where it is absent.
  tsv += "\n";
  for (const std::string id : {"r1", "r2"}) {
    tsv += id;
    for (std::size_t i = 0; i < labels.size(); ++i)
      tsv += "\t0";
    for (std::size_t i = 0; i < labels.size(); ++i)
      tsv += id == "r2" && i == 3 ? "\t0.95" : "\t0.1";
    tsv += "\n";
  }
  test::write_text(dir / "test_predictions.tsv", tsv);
  write_run_report(dir.path());
  const std::string html = test::read_text(dir / "report.html");
  EXPECT_TRUE(contains(html, "<td>multilabel</td>"));
  // Fourteen labels: the summary names ten and the count; the table lists all.
  EXPECT_TRUE(contains(html, "mark8, mark9, ... (14 in all)</td>"));
  EXPECT_TRUE(contains(html, "auroc 0.6789"));
  EXPECT_TRUE(contains(html, "Metrics by label (test)"));
  EXPECT_TRUE(contains(
      html, "<th>label</th><th>positives</th><th>AUROC</th><th>AUPRC</th><th>accuracy</th>"));
  EXPECT_TRUE(contains(
      html, "<tr><th>mark12</th><td class=\"number\">17</td><td class=\"number\">0.62</td>"));
  EXPECT_TRUE(contains(html, "1 label(s) have a single class in this split"));
  // (13 ln(1 / 0.9) + ln(1 / 0.05)) / 14 = 0.3118, and mark3 is the label it got wrong.
  EXPECT_TRUE(contains(html, "<tr><td>r2</td><td class=\"number\">0.3118</td><td>mark3</td></tr>"));
  EXPECT_TRUE(contains(html, "<tr><td>r1</td><td class=\"number\">0.1054</td><td>none</td></tr>"));
  EXPECT_LT(html.find("<tr><td>r2</td>"), html.find("<tr><td>r1</td>"));
  // A label with one class has no AUROC or AUPRC: dashes.
  EXPECT_TRUE(contains(html,
                       "<tr><th>mark13</th><td class=\"number\">0</td><td "
                       "class=\"number\">\u2014</td><td class=\"number\">\u2014</td>"));
  EXPECT_FALSE(contains(html, "Confusion matrix"));
  EXPECT_FALSE(contains(html, "class=\"notes\"")) << "a whole multi-label run needs no notes";
}

TEST(RunReport, TaskOfTheWrongTypeIsShownAsPretraining) {
  test::TempDir dir;
  test::write_text(dir / "run.json", R"({"task": "classification"})");
  ASSERT_NO_THROW(write_run_report(dir.path()));
  const std::string html = test::read_text(dir / "report.html");
  EXPECT_TRUE(contains(html, "shown as a pretraining run"));
  EXPECT_TRUE(contains(html, "Stride prior"));
}

TEST(SvgPlot, DotsWithoutLinesAndFixedRanges) {
  const Series dots{.label = "dots", .x = {0.1, 0.5, 2.0}, .y = {0.2, 0.4, 0.5}, .lines = false};
  PlotSpec spec{
      .title = "t", .series = {dots}, .x_range = AxisRange{0, 1}, .y_range = AxisRange{0, 1}};
  std::string svg = svg_line_plot(spec);
  expect_clean_svg(svg);
  EXPECT_FALSE(contains(svg, "<polyline"));
  EXPECT_EQ(count_of(svg, "<circle"), 3u);  // two in range, one in the legend
  for (const char* tick : {">0<", ">0.2<", ">0.8<", ">1<"})
    EXPECT_TRUE(contains(svg, tick)) << tick;
  EXPECT_FALSE(contains(svg, ">2<"));
  // A range that cannot make an axis is ignored: the data decide.
  spec.x_range = AxisRange{1, 0};
  spec.y_range = AxisRange{kNaN, 1};
  svg = svg_line_plot(spec);
  expect_clean_svg(svg);
  EXPECT_EQ(count_of(svg, "<circle"), 4u);
  EXPECT_TRUE(contains(svg, ">2<"));
  // Fixed ranges with nothing in them still label their axes, and say "no data".
  spec.x_range = AxisRange{5, 6};
  svg = svg_line_plot(spec);
  expect_clean_svg(svg);
  EXPECT_TRUE(contains(svg, "no data"));
  EXPECT_TRUE(contains(svg, ">6<"));
}

TEST(SvgPlot, EmptySeriesSaysNoData) {
  const std::string svg = svg_line_plot({.title = "t", .series = {Series{.label = "empty"}}});
  expect_clean_svg(svg);
  EXPECT_TRUE(contains(svg, "no data"));
  expect_clean_svg(svg_line_plot(PlotSpec{}));
}

TEST(SvgPlot, OnePointNaNsAndConstantsDoNotThrow) {
  Series one{.label = "one", .x = {5}, .y = {2}, .markers = true};
  Series gaps{.label = "gaps", .x = {0, 1, 2, kNaN, 4}, .y = {1, kNaN, 3, 4, INFINITY}};
  Series flat{.label = "flat", .x = {0, 1, 2}, .y = {7, 7, 7}};
  for (bool log_y : {false, true}) {
    PlotSpec spec{.title = "t", .series = {one}, .log_y = log_y};
    expect_clean_svg(svg_line_plot(spec));
    spec.series = {gaps, flat};
    expect_clean_svg(svg_line_plot(spec));
    spec.series = {Series{.x = {0, 1}, .y = {0, -1}}};  // nothing positive for a log axis
    spec.references = {{kNaN, "nan"}, {0, "zero"}};
    expect_clean_svg(svg_line_plot(spec));
  }
}

TEST(SvgPlot, ExtremeValuesStillGiveAFewTicks) {
  for (bool log_y : {false, true})
    for (const auto& y :
         {std::vector<double>{1e-310, 1e308}, std::vector<double>{-1e308, 1e308},
          std::vector<double>{1e18, 1e18 + 256}, std::vector<double>{1, 1 + 1e-15}}) {
      const std::string svg =
          svg_line_plot({.series = {Series{.x = {0, 1}, .y = y}}, .log_y = log_y});
      expect_clean_svg(svg);
      EXPECT_LT(svg.size(), 20000u);
    }
}

TEST(SvgPlot, TicksAreNiceAndReferencesLabelled) {
  PlotSpec spec{.title = "loss", .x_label = "step", .y_label = "loss"};
  spec.series = {Series{.label = "train", .x = {0, 973}, .y = {1.13, 4.2}}};
  spec.references = {{4.159, "stride prior"}};
  const std::string svg = svg_line_plot(spec);
  expect_clean_svg(svg);
  for (const char* tick : {">0<", ">200<", ">1000<", ">1<", ">2<", ">5<"})
    EXPECT_TRUE(contains(svg, tick)) << tick;
  EXPECT_TRUE(contains(svg, "stroke-dasharray"));
  EXPECT_TRUE(contains(svg, ">stride prior<"));
}

TEST(SvgPlot, CloseReferenceLabelsTakeTurnsAlongTheLine) {
  PlotSpec spec{.series = {{.x = {0, 1}, .y = {1, 5}}},
                .references = {{1.386, "floor"}, {1.30, "order 3"}, {1.25, "order 8"}, {4, "far"}}};
  const std::string svg = svg_line_plot(spec);
  expect_clean_svg(svg);
  const auto anchor_of = [&](const std::string& label) {
    const auto text = svg.rfind("<text", svg.find(">" + label + "<"));
    const auto anchor = svg.find("text-anchor=\"", text) + 13;
    return svg.substr(anchor, svg.find('"', anchor) - anchor);
  };
  EXPECT_EQ(anchor_of("floor"), "end");
  EXPECT_EQ(anchor_of("order 3"), "start");
  EXPECT_EQ(anchor_of("order 8"), "middle");
  EXPECT_EQ(anchor_of("far"), "end");  // far from the others: the right end again
}

TEST(SvgPlot, FormatsNumbersAndEscapesMarkup) {
  EXPECT_EQ(format_number(0.002), "0.002");
  EXPECT_EQ(format_number(1.31), "1.31");
  EXPECT_EQ(format_number(2400.7), "2401");
  EXPECT_EQ(format_number(1.5e-5), "1.5e-5");
  EXPECT_EQ(format_number(-0.0), "0");
  EXPECT_EQ(format_number(0.1 + 0.2, 6), "0.3");
  EXPECT_EQ(format_number(kNaN), "NaN");
  EXPECT_EQ(escape_markup("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
}

}  // namespace
}  // namespace genolm::report
