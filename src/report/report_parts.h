#pragma once
// Pieces the run report's source files share, internal to src/report (the public interface is
// report_html.h): reading fields of run.json and metrics rows without throwing, the plain HTML
// table, the fine-tuning sections (finetune_report.cpp) that report_html.cpp lays out, and the
// plots of test predictions (prediction_plots.cpp) that those sections end with.

#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/svg_plot.h"

namespace genolm::report {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr const char* kNone = "\u2014";  // an em dash for values the run has not produced

using TableRows = std::vector<std::pair<std::string, std::string>>;

// The whole file, or nothing when it cannot be opened.
std::optional<std::string> read_whole(const std::filesystem::path& file);

// The value of a numeric field, NaN when the row lacks it (or logged null for a NaN).
double number(const nlohmann::json& row, const char* key);

// A JSON value as a reader wants it: strings bare, integers grouped by thousands, null as a dash.
std::string text_of(const nlohmann::json& value);

// The rows of one split ordered by step; a stable sort keeps logging order within a step.
std::vector<const nlohmann::json*> split_rows(const std::vector<nlohmann::json>& rows,
                                              const std::string& split);

// One field of `rows` against their step.
Series column(const std::vector<const nlohmann::json*>& rows, const char* key, std::string label,
              bool markers, std::string color);

// A report page up to its <h1>: the head (title, style sheet) and the opened body.
std::string page_start(const std::string& name);

// A two-column table of names and values (both escaped).
std::string table(const TableRows& rows);

// "a, b, c"; a dash for none.
std::string joined(const std::vector<std::string>& parts);

// What a fine-tuning run adds to the report. Its summary rows go around the shared ones (status,
// start, device, wall time); the body holds its tables and plots, in page order.
struct FinetuneParts {
  TableRows summary_head;  // task kind, classes or targets
  TableRows summary_tail;  // epochs, best checkpoint, test metrics
  std::string body;
};

// The fine-tuning sections for a run whose run.json holds a "task" object (`task`). Reads
// <run_dir>/test_predictions.tsv when there is one; whatever is missing or malformed becomes a line
// of `notes` and never an exception.
FinetuneParts finetune_parts(const nlohmann::json& run, const nlohmann::json& task,
                             const std::vector<nlohmann::json>& rows,
                             const std::filesystem::path& run_dir, std::vector<std::string>& notes);

// test_predictions.tsv, which genolm writes itself: a header, then tab-separated fields, no
// quoting. Classification: id, label, predicted, prob_<class>...; regression: id, then <target>
// and <target>_pred for each target.
struct Predictions {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // each as long as the header

  int column(const std::string& name) const;  // -1 when the header lacks it
};

// The table, or nothing when the file is missing or empty: a note then says so, ending in
// `lacking` (what the report goes without). Lines of the wrong length are skipped and counted.
std::optional<Predictions> read_predictions(const std::filesystem::path& file,
                                            const std::string& lacking,
                                            std::vector<std::string>& notes);

// A field of the table as a number; NaN for an empty field or anything that is not wholly one.
double parse_number(const std::string& field);

// Classes from the prob_<class> columns, or targets from <target> beside <target>_pred: the
// names when run.json does not give them.
std::vector<std::string> names_from_header(const Predictions& table, bool classification);

// Precision-recall curves, laid out as the ROC curves are; average precision in the legend, and
// for two classes the share of positives a guess would reach.
std::string precision_recall_section(const Predictions& table,
                                     const std::vector<std::string>& classes,
                                     std::vector<std::string>& notes);

// The confusion matrix of metrics.jsonl as counts (rows true, columns predicted); nothing unless
// it is a square table of non-negative numbers.
std::optional<std::vector<std::vector<double>>> confusion_counts(const nlohmann::json& matrix);

// Precision, recall, F1, support and times predicted for each class, from those counts; a dash
// where a class is never predicted or absent.
std::string per_class_table(const std::vector<std::vector<double>>& counts,
                            const std::vector<std::string>& classes);

// The test examples the model got most wrong, with a heading; empty, with a note, when the
// columns they need are missing. Classification: the lowest probability of the true class.
// Regression: the largest absolute errors of each target, in its units. Multi-label: the highest
// mean binary cross-entropy over the labels.
std::string worst_classified(const Predictions& table, std::vector<std::string>& notes);
std::string worst_regressed(const Predictions& table, const std::vector<std::string>& targets,
                            std::vector<std::string>& notes);
std::string worst_multilabelled(const Predictions& table, const std::vector<std::string>& labels,
                                std::vector<std::string>& notes);

// Every layer group's learning rate at every step, from run.json's "lr_plan", with the stages
// marked and the logged rates as dots; without a readable plan, the logged rates and a note.
std::string learning_rate_plot(const nlohmann::json& run,
                               const std::vector<const nlohmann::json*>& train,
                               std::vector<std::string>& notes);

// ROC curves on equal 0..1 axes with the diagonal: one curve for two classes (the probability of
// the second scores it), else one per class against the rest; AUROCs in the legend.
std::string roc_section(const Predictions& table, const std::vector<std::string>& classes,
                        std::vector<std::string>& notes);

// One scatter plot of predicted against true values per target, on equal axes with y = x; the
// legend takes R2 from the test row's "targets" when it is there (`test_row` may be null).
std::string scatter_section(const Predictions& table, const std::vector<std::string>& targets,
                            const nlohmann::json* test_row, std::vector<std::string>& notes);

// A ROC curve: one point per distinct threshold, scores taken in descending order, from (0, 0) to
// (1, 1). Tied scores move both rates at once, so the area under the curve (the trapezoid rule)
// counts a tied positive/negative pair as 1/2, which is the Mann-Whitney AUROC.
struct RocPoints {
  std::vector<double> false_positive_rate;
  std::vector<double> true_positive_rate;
  double auroc = kNaN;
};

// Empty, with a NaN AUROC, when either class is absent. Scores must be finite.
RocPoints roc_points(const std::vector<double>& scores, const std::vector<bool>& positive);

}  // namespace genolm::report
