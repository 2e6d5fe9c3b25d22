// genolm finetune with task.cv_folds end to end: three folds of a tiny model trained from scratch
// on a table the test writes, their run folders, the summary that must agree with them, the
// out-of-fold predictions, folds from a column, resume after a kill, and the errors.
#include <gtest/gtest.h>
#include <signal.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "report/svg_plot.h"
#include "support/genolm_cli.h"
#include "support/genolm_process.h"
#include "support/report_page.h"
#include "support/test_files.h"

namespace genolm {
namespace {

// Built piece by piece: GCC 12 sees a false -Wrestrict in "r" + std::to_string(...).
std::string row_id(std::size_t row) {
  return std::string("r").append(std::to_string(row));
}

// 90 rows of 40 nt: a third ("yes") drawn from A and C, the others ("no") from G and T, so that
// a tiny model from scratch learns them in a few epochs; a group column cycles through a, b.
std::string two_alphabet_table() {
  std::mt19937 rng(3);
  std::string table = "id\tsequence\tlabel\tgroup\n";
  for (int i = 0; i < 90; ++i) {
    const bool yes = i % 3 == 0;
    std::string dna;
    for (int j = 0; j < 40; ++j)
      dna += (yes ? "AC" : "GT")[rng() % 2];
    table.append(row_id(static_cast<std::size_t>(i))).append("\t").append(dna);
    table.append(yes ? "\tyes\t" : "\tno\t").append(i % 2 == 0 ? "a" : "b").append("\n");
  }
  return table;
}

std::vector<std::vector<std::string>> tsv_rows(const std::filesystem::path& file) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(test::read_text(file));
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> fields;
    std::istringstream words(line);
    for (std::string field; std::getline(words, field, '\t');)
      fields.push_back(field);
    rows.push_back(fields);
  }
  return rows;
}

class CrossValidation : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    test::write_text(*dir_ / "table.tsv", two_alphabet_table());
    // The reference cross-validation the tests read.
    ASSERT_EQ(run("finetune --config " + recipe("cv").string()), 0) << err();
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  // A tiny model from scratch; `folds` are the [task] keys that choose the folds.
  static std::filesystem::path recipe(const std::string& name,
                                      const std::string& folds = "cv_folds = 3\n") {
    const auto file = *dir_ / (name + ".toml");
    test::write_text(file, "[run]\nname = \"" + name + "\"\ndir = \"" + (*dir_ / "runs").string() +
                               "\"\nseed = 5\n[tokenizer]\nkind = \"nucleotide\"\n"
                               "[model]\nemb_size = 16\nhidden_size = 24\nlayers = 2\n"
                               "[train]\ndevice = \"cpu\"\nbatch_size = 12\nlog_every = 2\n"
                               "checkpoint_every = 1\nkeep_checkpoints = 100\n"
                               "[finetune]\nstage_epochs = [4]\nstage_lrs = [2e-2]\n"
                               "[task]\ntrain = \"" +
                               (*dir_ / "table.tsv").string() + "\"\nvalid_fraction = 0.2\n" +
                               folds);
    return file;
  }
  static std::string command(const std::string& words) { return test::genolm_command(words); }
  static int run(const std::string& words) { return test::run_genolm(dir_->path(), words); }
  static std::string err() { return test::read_text(*dir_ / "err.txt"); }
  static std::filesystem::path folder(const std::string& name) { return *dir_ / "runs" / name; }
  static nlohmann::json test_row(const std::filesystem::path& run) {
    for (const auto& row : test::read_jsonl(run / "metrics.jsonl"))
      if (row["split"] == "test") return row;
    return nullptr;
  }

  static test::TempDir* dir_;
};
test::TempDir* CrossValidation::dir_ = nullptr;

TEST_F(CrossValidation, EachFoldIsARunAndTheSummaryAgreesWithTheirTestRows) {
  const auto cv = folder("cv");
  EXPECT_FALSE(std::filesystem::exists(cv / "fold_4"));
  const auto summary = nlohmann::json::parse(test::read_text(cv / "cv.json"));
  ASSERT_EQ(summary.at("folds").size(), 3u);
  std::vector<double> accuracies;
  std::size_t tested = 0;
  for (int fold = 1; fold <= 3; ++fold) {
    const auto run = cv / ("fold_" + std::to_string(fold));
    for (const char* file : {"model.json", "classifier.safetensors", "report.html", "config.toml"})
      EXPECT_TRUE(std::filesystem::exists(run / file)) << run / file;
    const auto row = test_row(run);
    ASSERT_TRUE(row.is_object()) << run;
    accuracies.push_back(row.at("accuracy").get<double>());
    const auto& entry = summary.at("folds")[static_cast<std::size_t>(fold - 1)];
    EXPECT_EQ(entry.at("test").at("accuracy"), row.at("accuracy"));
    EXPECT_EQ(entry.at("test").at("mcc"), row.at("mcc"));
    // Stratified: 90 rows, 30 "yes": each fold tests 30 rows, 10 of them "yes".
    const auto predictions = tsv_rows(run / "test_predictions.tsv");
    ASSERT_EQ(predictions.size(), 31u);
    EXPECT_EQ(std::count_if(predictions.begin() + 1, predictions.end(),
                            [](const auto& p) { return p.at(1) == "yes"; }),
              10);
    tested += predictions.size() - 1;
  }
  EXPECT_EQ(tested, 90u);
  const double mean = (accuracies[0] + accuracies[1] + accuracies[2]) / 3;
  double squares = 0;
  for (const double a : accuracies)
    squares += (a - mean) * (a - mean);
  const auto& accuracy = summary.at("metrics").at("accuracy");
  EXPECT_NEAR(accuracy.at("mean").get<double>(), mean, 1e-12);
  EXPECT_NEAR(accuracy.at("sd").get<double>(), std::sqrt(squares / 2), 1e-12);
  // Real predictions, not the prior: the two alphabets are easy to tell apart.
  EXPECT_GT(summary.at("metrics").at("auroc").at("mean").get<double>(), 0.9);

  // cv.tsv: a row per fold, then mean and sd.
  const auto table = tsv_rows(cv / "cv.tsv");
  ASSERT_EQ(table.size(), 6u);
  EXPECT_EQ(table[4][0], "mean");
  EXPECT_EQ(table[5][0], "sd");
  EXPECT_NE(test::read_text(cv / "report.html").find("fold_2/report.html"), std::string::npos);
  // The summary page and a fold's, as a reader sees them, with their key numbers.
  const auto page_error = [&] { return test::read_text(cv / "page_err.txt"); };
  EXPECT_EQ(test::check_page_in_chromium(cv / "report.html",
                                         {"fold_1", "fold_3", "mean", report::format_number(mean)},
                                         cv / "page_out.txt", cv / "page_err.txt"),
            0)
      << page_error();
  EXPECT_EQ(
      test::check_page_in_chromium(
          cv / "fold_2/report.html",
          {"accuracy " + report::format_number(accuracies[1]), "Precision and recall by class",
           "Worst-predicted test examples", "Learning rate by layer group"},
          cv / "page_out.txt", cv / "page_err.txt"),
      0)
      << page_error();
}

TEST_F(CrossValidation, OutOfFoldPredictionsCoverEveryRowOnceInTableOrder) {
  const auto cv = folder("cv");
  const auto predictions = tsv_rows(cv / "cv_predictions.tsv");
  ASSERT_EQ(predictions.size(), 91u);
  EXPECT_EQ(predictions[0][0], "id");
  EXPECT_EQ(predictions[0][1], "fold");
  // Each row's fold is the fold whose own predictions hold it, with the same values.
  std::map<std::string, std::pair<std::string, std::vector<std::string>>> by_fold;
  for (int fold = 1; fold <= 3; ++fold) {
    const auto rows = tsv_rows(cv / ("fold_" + std::to_string(fold)) / "test_predictions.tsv");
    for (std::size_t i = 1; i < rows.size(); ++i)
      by_fold[rows[i][0]] = {std::to_string(fold), rows[i]};
  }
  for (std::size_t i = 1; i < predictions.size(); ++i) {
    const auto& row = predictions[i];
    EXPECT_EQ(row[0], row_id(i - 1));  // the table's order, each id once
    const auto& [fold, own] = by_fold.at(row[0]);
    EXPECT_EQ(row[1], fold);
    std::vector<std::string> without_fold = row;
    without_fold.erase(without_fold.begin() + 1);
    EXPECT_EQ(without_fold, own);
  }
}

TEST_F(CrossValidation, FoldsCanComeFromAColumn) {
  ASSERT_EQ(run("finetune --config " + recipe("grouped", "fold_column = \"group\"\n").string() +
                " --set finetune.stage_epochs=[1]"),
            0)
      << err();
  const auto summary = nlohmann::json::parse(test::read_text(folder("grouped") / "cv.json"));
  ASSERT_EQ(summary.at("folds").size(), 2u);
  EXPECT_EQ(summary.at("folds")[0].at("value"), "a");
  // Fold 1 tests the rows of group "a": the even ones.
  const auto rows = tsv_rows(folder("grouped") / "fold_1" / "test_predictions.tsv");
  ASSERT_EQ(rows.size(), 46u);
  for (std::size_t i = 1; i < rows.size(); ++i)
    EXPECT_EQ(rows[i][0], row_id(2 * (i - 1)));
}

TEST_F(CrossValidation, AKilledCrossValidationResumesSkippingFinishedFolds) {
  const auto file = recipe("killed");
  const auto killed = folder("killed");
  EXPECT_EQ(test::interrupt_after_new_checkpoint(command("finetune --config " + file.string()),
                                                 killed / "fold_2" / "checkpoints", SIGKILL),
            128 + SIGKILL);
  ASSERT_TRUE(std::filesystem::exists(killed / "fold_1" / "test_predictions.tsv"));
  ASSERT_FALSE(std::filesystem::exists(killed / "fold_2" / "test_predictions.tsv"));
  ASSERT_FALSE(std::filesystem::exists(killed / "cv.json"));
  const auto fold_1_files = [&] {
    return test::read_text(killed / "fold_1" / "run.json") +
           test::read_text(killed / "fold_1" / "metrics.jsonl");
  };
  const std::string fold_1 = fold_1_files();

  // Without --resume the folds that trained are not started over.
  EXPECT_EQ(run("finetune --config " + file.string()), 1);
  EXPECT_NE(err().find("holds a cross-validation whose fold_1 has trained: continue it with "
                       "--resume"),
            std::string::npos)
      << err();

  // Logged at info, so that the folds' logs say what happened.
  ASSERT_EQ(test::run_command(std::string(GENOLM_BINARY) +
                                  " --threads 2 finetune --resume --config " + file.string(),
                              *dir_ / "out.txt", *dir_ / "err.txt"),
            0)
      << err();
  EXPECT_EQ(fold_1_files(), fold_1);  // untouched: skipped
  EXPECT_NE(test::read_text(killed / "train.log").find("fold 1/3 had finished: skipped"),
            std::string::npos);
  EXPECT_NE(test::read_text(killed / "fold_2" / "train.log").find("continuing at epoch"),
            std::string::npos);
  // Fold 2 went on from its checkpoint: its steps never repeat.
  std::int64_t last = 0;
  for (const auto& row : test::read_jsonl(killed / "fold_2" / "metrics.jsonl")) {
    if (row["split"] != "train") continue;
    EXPECT_GT(row["step"].get<std::int64_t>(), last);
    last = row["step"].get<std::int64_t>();
  }
  const auto summary = nlohmann::json::parse(test::read_text(killed / "cv.json"));
  ASSERT_EQ(summary.at("folds").size(), 3u);
  for (int fold = 1; fold <= 3; ++fold) {
    EXPECT_EQ(summary.at("folds")[static_cast<std::size_t>(fold - 1)].at("test").at("auroc"),
              test_row(killed / ("fold_" + std::to_string(fold)))["auroc"]);
  }
  EXPECT_EQ(tsv_rows(killed / "cv_predictions.tsv").size(), 91u);
}

TEST_F(CrossValidation, BadInputsAreClearErrors) {
  const auto expect_error = [&](const std::string& words, const std::string& expected) {
    EXPECT_EQ(run(words), 1) << words;
    EXPECT_NE(err().find(expected), std::string::npos) << err();
  };
  expect_error("finetune --config " + recipe("with_test").string() +
                   " --set task.test=" + (*dir_ / "table.tsv").string(),
               "leave task.test empty");
  test::write_text(*dir_ / "holes.tsv",
                   "id\tsequence\tlabel\tgroup\nq1\tACGTACGTAC\tyes\ta\nq2\tACGTTCGTAC\tno\t\n");
  expect_error("finetune --config " + recipe("holes", "fold_column = \"group\"\n").string() +
                   " --set task.train=" + (*dir_ / "holes.tsv").string(),
               "holes.tsv line 3: empty label in column 'group'");
  expect_error(
      "finetune --config " + recipe("disagree", "fold_column = \"group\"\ncv_folds = 3\n").string(),
      "holds 2 distinct values, but task.cv_folds is 3");
  expect_error("finetune --config " + recipe("too_many").string() + " --set task.cv_folds=91",
               "91 folds");
}

}  // namespace
}  // namespace genolm
