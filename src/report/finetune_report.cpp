// The fine-tuning sections of the run report: the task, metrics per epoch, curves and the confusion
// matrix, with the plots of test_predictions.tsv (prediction_plots.cpp) after them. Like the rest
// of the report it never throws on its inputs: whatever is missing or malformed becomes a note and
// the rest is shown.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "report/report_parts.h"
#include "report/svg_plot.h"
#include "run/run_layout.h"

namespace genolm::report {

using nlohmann::json;

namespace {

// What the kind-specific sections read: the final row (the test row, else the last valid row;
// null before either), what it came from, the test predictions and the class or target names.
struct FinalInputs {
  const json* final_row = nullptr;
  const json* test_row = nullptr;
  std::string source;
  const std::optional<Predictions>* predictions = nullptr;
  bool untested = false;  // no test row and no predictions yet
  const std::vector<std::string>* names = nullptr;
};

// What the report shows of a task kind beyond what every kind gets (the epoch table, the curves,
// the best epoch): how run.json names its labels, the metric columns of runs that did not record
// theirs ("report_metrics"), and its own sections. One entry per kind of src/task/, in
// kind_reports() below; the report reads files only, so it keys kinds by the name run.json
// records.
struct KindReport {
  std::string_view kind;
  const char* names_key;    // run.json's list: "classes" or "targets"
  const char* names_title;  // its row in the summary
  std::vector<std::string> metrics;
  const char* default_metric;
  const char* without_predictions;  // what an unreadable test_predictions.tsv costs
  bool probability_columns;         // names from prob_<class> columns (else <target>_pred)
  std::string (*before_curves)(const FinalInputs& in, std::vector<std::string>& notes);
  std::string (*after_curves)(const FinalInputs& in, std::vector<std::string>& notes);
};

const KindReport* kind_report(std::string_view kind);

// run.json's "task", read without trusting it.
struct Task {
  const KindReport* kind = nullptr;  // null: a kind this report does not know
  std::string kind_name;             // as written
  std::vector<std::string> names;    // classes (in the order of the probability columns) or targets
  std::string metric;                // the one the best checkpoint is chosen by
  std::vector<std::string> report_metrics;  // the task's own choice of columns, when recorded
  const json* best = nullptr;               // {"epoch", "step", "value"} when recorded
};

constexpr const char* kClassificationMetrics[] = {
    "accuracy", "balanced_accuracy", "mcc", "macro_f1", "auroc", "auprc"};
constexpr const char* kRegressionMetrics[] = {"rmse", "mae", "pearson", "spearman", "r2"};
constexpr const char* kMultilabelMetrics[] = {"auroc", "auprc", "accuracy"};
// Fields of a row that are not metrics, for runs of a kind this report does not know.
constexpr std::string_view kBookkeeping[] = {"step",           "split",       "epoch", "loss",
                                             "wall_s",         "lr",          "stage", "grad_norm",
                                             "examples_per_s", "tokens_per_s"};

std::string string_field(const json& object, const char* key) {
  const auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : "";
}

std::string value_text(double v) {
  return std::isfinite(v) ? format_number(v) : kNone;
}

// The summary's list of classes, targets or labels: a multi-label task may have hundreds, which
// the per-label table lists in full.
std::string names_text(const std::vector<std::string>& names) {
  constexpr std::size_t kShown = 10;
  if (names.size() <= kShown + 2) return joined(names);
  return joined({names.begin(), names.begin() + kShown}) + ", ... (" +
         std::to_string(names.size()) + " in all)";
}

Task read_task(const json& task, std::vector<std::string>& notes) {
  Task out;
  out.kind_name = string_field(task, "kind");
  out.kind = kind_report(out.kind_name);
  if (!out.kind)
    notes.push_back("run.json's task kind is " +
                    (out.kind_name.empty() ? "missing" : "\"" + out.kind_name + "\"") +
                    " (expected \"classification\", \"regression\" or \"multilabel\"): metrics "
                    "are shown as logged.");
  if (out.kind) {
    const char* list = out.kind->names_key;
    if (const auto names = task.find(list); names != task.end() && names->is_array())
      for (const auto& name : *names)
        out.names.push_back(text_of(name));
    else
      notes.push_back(std::string("run.json's task lists no ") + list +
                      ": they are taken from the header of test_predictions.tsv, if any.");
  }
  if (const auto columns = task.find("report_metrics");
      columns != task.end() && columns->is_array()) {
    for (const auto& name : *columns)
      if (name.is_string()) out.report_metrics.push_back(name.get<std::string>());
  }
  out.metric = string_field(task, "metric");
  if (out.metric.empty()) {
    out.metric = out.kind ? out.kind->default_metric : "loss";
    notes.push_back("run.json's task names no \"metric\": " + out.metric + " is shown.");
  }
  if (const auto best = task.find("best"); best != task.end() && best->is_object())
    out.best = &*best;
  return out;
}

// The metric columns of the epoch table: the kind's own, else whatever numbers the rows hold.
std::vector<std::string> metric_columns(const Task& task, const std::vector<const json*>& rows) {
  std::vector<std::string> out;
  if (!task.report_metrics.empty())  // the task's own list (runs of this version on)
    out = task.report_metrics;
  else if (task.kind)  // runs that did not record their columns
    out.assign(task.kind->metrics.begin(), task.kind->metrics.end());
  else
    for (const json* row : rows)
      for (const auto& [key, value] : row->items())
        if (value.is_number() && std::ranges::find(kBookkeeping, key) == std::end(kBookkeeping) &&
            std::ranges::find(out, key) == out.end())
          out.push_back(key);
  // A mean of rmse or mae over targets adds up different units (a melting temperature and a
  // retention time): with several targets they are shown per target only, unless chosen.
  if (task.kind && task.kind->kind == "regression" && task.names.size() > 1)
    std::erase_if(out, [](const std::string& key) { return key == "rmse" || key == "mae"; });
  if (task.metric != "loss" && std::ranges::find(out, task.metric) == out.end())
    out.push_back(task.metric);
  return out;
}

struct Best {
  double epoch = kNaN, step = kNaN, value = kNaN;
  bool from_log = false;  // run.json did not record it; the valid rows ranked by the metric did
};

Best find_best(const Task& task, const std::vector<const json*>& valid) {
  Best best;
  if (task.best) {
    best = {number(*task.best, "epoch"), number(*task.best, "step"), number(*task.best, "value")};
    if (std::isfinite(best.epoch) || std::isfinite(best.step)) return best;
  }
  // Not recorded (a run still going, or one that kept no best checkpoint): rank the valid rows.
  best = {.from_log = true};
  const bool lower = task.metric == "loss" || task.metric == "rmse" || task.metric == "mae";
  for (const json* row : valid)
    if (const double v = number(*row, task.metric.c_str()); std::isfinite(v))
      if (!std::isfinite(best.value) || (lower ? v < best.value : v > best.value))
        best = {number(*row, "epoch"), number(*row, "step"), v, true};
  return best;
}

std::string best_text(const Task& task, const Best& best) {
  if (!std::isfinite(best.epoch) && !std::isfinite(best.step)) return kNone;
  std::string text = "epoch " + value_text(best.epoch) + " (step " + value_text(best.step) + ")";
  if (std::isfinite(best.value)) text += ": " + task.metric + " " + format_number(best.value);
  return text + (best.from_log ? " (ranked from metrics.jsonl)" : "");
}

// "accuracy 0.91, loss 0.25, balanced_accuracy 0.9, ...": the chosen metric first.
std::string metrics_text(const json& row, const Task& task, std::vector<std::string> columns) {
  columns.insert(columns.begin(), "loss");
  if (const auto chosen = std::ranges::find(columns, task.metric); chosen != columns.end())
    std::rotate(columns.begin(), chosen, chosen + 1);
  std::string text;
  for (const auto& key : columns)
    if (const double v = number(row, key.c_str()); std::isfinite(v))
      text += (text.empty() ? "" : ", ") + key + " " + format_number(v);
  return text.empty() ? kNone : text;
}

// Which weights the test row scored: the best epoch's, which test_and_finish records, else the
// last (a run that kept no best checkpoint).
std::string tested_weights(const json& test_row) {
  const double epoch = number(test_row, "epoch");
  return std::isfinite(epoch) ? "weights of epoch " + format_number(epoch, 9) : "the last weights";
}

std::string number_cell(double v) {
  return "<td class=\"number\">" + value_text(v) + "</td>";
}

std::string epoch_table(const std::vector<const json*>& valid, const std::vector<const json*>& test,
                        const std::vector<std::string>& columns, const Best& best) {
  if (valid.empty() && test.empty())
    return "<p class=\"note\">No valid or test rows in metrics.jsonl yet.</p>\n";
  std::string html = "<table>\n<tr><th>split</th><th>epoch</th><th>step</th><th>loss</th>";
  for (const auto& key : columns)
    html += "<th>" + escape_markup(key) + "</th>";
  html += "</tr>\n";
  const auto add = [&](const json& row, const std::string& split, bool is_best) {
    html += std::string(is_best ? "<tr class=\"best\">" : "<tr>") + "<th>" + split +
            (is_best ? " (best)" : "") + "</th>" + number_cell(number(row, "epoch")) +
            number_cell(number(row, "step")) + number_cell(number(row, "loss"));
    for (const auto& key : columns)
      html += number_cell(number(row, key.c_str()));
    html += "</tr>\n";
  };
  for (const json* row : valid)
    add(*row, "valid",
        std::isfinite(best.step) ? number(*row, "step") == best.step
                                 : number(*row, "epoch") == best.epoch);
  for (const json* row : test)
    add(*row, "test (" + tested_weights(*row) + ")", false);
  return html + "</table>\n";
}

// Per-target metrics of a multi-target regression, from the row's "targets" object.
std::string target_table(const json& row, std::vector<std::string> targets) {
  const auto found = row.find("targets");
  if (found == row.end() || !found->is_object() || found->empty())
    return "<p class=\"note\">The row holds no per-target metrics.</p>\n";
  if (targets.empty())
    for (const auto& [name, metrics] : found->items())
      targets.push_back(name);
  std::string html = "<table>\n<tr><th>target</th>";
  for (const char* key : kRegressionMetrics)
    html += std::string("<th>") + key + "</th>";
  html += "</tr>\n";
  for (const auto& target : targets) {
    const auto metrics = found->find(target);
    const json empty = json::object();
    const json& values = metrics != found->end() && metrics->is_object() ? *metrics : empty;
    html += "<tr><th>" + escape_markup(target) + "</th>";
    for (const char* key : kRegressionMetrics)
      html += number_cell(number(values, key));
    html += "</tr>\n";
  }
  return html + "</table>\n";
}

// Per-label metrics of a multi-label run, from the row's "labels" object: positives, AUROC, AUPRC
// and accuracy per label; a label with one class in the split has no AUROC or AUPRC (a dash).
std::string label_table(const json& row, std::vector<std::string> labels) {
  const auto found = row.find("labels");
  if (found == row.end() || !found->is_object() || found->empty())
    return "<p class=\"note\">The row holds no per-label metrics.</p>\n";
  if (labels.empty())
    for (const auto& [name, metrics] : found->items())
      labels.push_back(name);
  std::string html;
  if (const double skipped = number(row, "single_class_labels"); skipped > 0)
    html += "<p class=\"note\">" + value_text(skipped) +
            " label(s) have a single class in this split: no AUROC or AUPRC, and left out of the "
            "macro means.</p>\n";
  html +=
      "<table>\n<tr><th>label</th><th>positives</th><th>AUROC</th><th>AUPRC</th>"
      "<th>accuracy</th></tr>\n";
  const json empty = json::object();
  for (const auto& label : labels) {
    const auto metrics = found->find(label);
    const json& values = metrics != found->end() && metrics->is_object() ? *metrics : empty;
    html += "<tr><th>" + escape_markup(label) + "</th>";
    for (const char* key : {"positives", "auroc", "auprc", "accuracy"})
      html += number_cell(number(values, key));
    html += "</tr>\n";
  }
  return html + "</table>\n";
}

std::string curves(const json& run, const std::vector<const json*>& train,
                   const std::vector<const json*>& valid, const json* test_row,
                   const std::string& metric, std::vector<std::string>& notes) {
  const PlotSpec loss{.title = "Loss",
                      .x_label = "step",
                      .y_label = "loss",
                      .series = {column(train, "loss", "train", false, "#1f77b4"),
                                 column(valid, "loss", "valid", true, "#d62728")}};
  PlotSpec chosen{.title = "Validation " + metric,
                  .x_label = "step",
                  .y_label = metric,
                  .series = {column(valid, metric.c_str(), "valid", true, "#d62728")}};
  if (const double v = test_row ? number(*test_row, metric.c_str()) : kNaN; std::isfinite(v))
    chosen.references.push_back({v, "test " + metric + " = " + format_number(v)});
  return "<h2>Curves</h2>\n" + svg_line_plot(loss) + svg_line_plot(chosen) +
         learning_rate_plot(run, train, notes);
}

// Rows are true classes, columns predicted. A cell is shaded by its share of its row, so each
// class's recall reads down the diagonal whatever the class sizes. Names that do not fit the
// matrix become indices in `classes`, for the tables after it.
std::string confusion_table(const std::vector<std::vector<double>>& counts,
                            std::vector<std::string>& classes, std::vector<std::string>& notes) {
  const std::size_t n = counts.size();
  if (classes.size() != n) {
    if (!classes.empty())
      notes.push_back("The confusion matrix has " + std::to_string(n) +
                      " classes but run.json "
                      "names " +
                      std::to_string(classes.size()) + "; they are shown by index.");
    classes.clear();
    for (std::size_t i = 0; i < n; ++i)
      classes.push_back(std::to_string(i));
  }
  std::string html = "<table class=\"confusion\">\n<tr><th>true \\ predicted</th>";
  for (const auto& name : classes)
    html += "<th>" + escape_markup(name) + "</th>";
  html += "</tr>\n";
  for (std::size_t i = 0; i < n; ++i) {
    const double total = std::accumulate(counts[i].begin(), counts[i].end(), 0.0);
    html += "<tr><th>" + escape_markup(classes[i]) + "</th>";
    for (std::size_t j = 0; j < n; ++j) {
      const double share = total > 0 ? counts[i][j] / total : 0;
      char style[96];
      std::snprintf(style, sizeof style, "background: rgba(31, 119, 180, %.3f);%s", share,
                    share > 0.55 ? " color: white;" : "");
      html += std::string("<td style=\"") + style + "\" title=\"" + format_number(100 * share, 3) +
              "% of true " + escape_markup(classes[i]) + "\">" + format_number(counts[i][j], 15) +
              "</td>";
    }
    html += "</tr>\n";
  }
  return html + "</table>\n";
}

const std::string kNotYet =
    "<p class=\"note\">No test predictions yet: the test set is evaluated when training "
    "ends.</p>\n";

std::string classification_sections(const FinalInputs& in, std::vector<std::string>& notes) {
  std::string html = "<h2>Confusion matrix (" + escape_markup(in.source) + ")</h2>\n";
  const json* matrix = nullptr;
  if (in.final_row)
    if (const auto found = in.final_row->find("confusion"); found != in.final_row->end())
      matrix = &*found;
  const auto counts = matrix ? confusion_counts(*matrix) : std::nullopt;
  if (matrix && !counts)
    notes.push_back(
        "The \"confusion\" of metrics.jsonl is not a square table of counts; it and the "
        "precision and recall by class are not shown.");
  std::vector<std::string> classes = *in.names;  // by index when they do not fit the matrix
  if (counts) {
    html += confusion_table(*counts, classes, notes);  // first: it settles the names
    html += "<h2>Precision and recall by class (" + escape_markup(in.source) + ")</h2>\n" +
            per_class_table(*counts, classes);
  } else {
    html += matrix ? "<p class=\"note\">Not available.</p>\n"
                   : "<p class=\"note\">Not recorded in metrics.jsonl yet.</p>\n";
  }
  if (*in.predictions)
    html += roc_section(**in.predictions, *in.names, notes) +
            precision_recall_section(**in.predictions, *in.names, notes) +
            worst_classified(**in.predictions, notes);
  if (in.untested)
    html += "<h2>ROC and precision-recall curves, worst-predicted examples (test)</h2>\n" + kNotYet;
  return html;
}

std::string regression_targets(const FinalInputs& in, std::vector<std::string>& /*notes*/) {
  if (!in.final_row) return "";
  std::string html = "<h2>Metrics by target (" + escape_markup(in.source) + ")</h2>\n";
  if (in.names->size() > 1)
    html +=
        "<p>rmse and mae are in each target's own units, so they are given here only, never "
        "averaged over targets.</p>\n";
  return html + target_table(*in.final_row, *in.names);
}

std::string regression_plots(const FinalInputs& in, std::vector<std::string>& notes) {
  std::string html;
  if (*in.predictions)
    html += scatter_section(**in.predictions, *in.names, in.test_row, notes) +
            worst_regressed(**in.predictions, *in.names, notes);
  if (in.untested)
    html += "<h2>Predicted vs true, worst-predicted examples (test)</h2>\n" + kNotYet;
  return html;
}

std::string multilabel_labels(const FinalInputs& in, std::vector<std::string>& notes) {
  if (!in.final_row) return "";
  std::string html = "<h2>Metrics by label (" + escape_markup(in.source) + ")</h2>\n" +
                     label_table(*in.final_row, *in.names);
  if (*in.predictions) html += worst_multilabelled(**in.predictions, *in.names, notes);
  return html;
}

std::string nothing(const FinalInputs& /*in*/, std::vector<std::string>& /*notes*/) {
  return "";
}

// The registration table: one entry per task kind.
const std::vector<KindReport>& kind_reports() {
  static const std::vector<KindReport> table = {
      {.kind = "classification",
       .names_key = "classes",
       .names_title = "Classes",
       .metrics = {std::begin(kClassificationMetrics), std::end(kClassificationMetrics)},
       .default_metric = "accuracy",
       .without_predictions = "the report has no ROC curves.",
       .probability_columns = true,
       .before_curves = nothing,
       .after_curves = classification_sections},
      {.kind = "regression",
       .names_key = "targets",
       .names_title = "Targets",
       .metrics = {std::begin(kRegressionMetrics), std::end(kRegressionMetrics)},
       .default_metric = "r2",
       .without_predictions = "the report has no predicted-vs-true plots.",
       .probability_columns = false,
       .before_curves = regression_targets,
       .after_curves = regression_plots},
      {.kind = "multilabel",
       .names_key = "labels",
       .names_title = "Labels",
       .metrics = {std::begin(kMultilabelMetrics), std::end(kMultilabelMetrics)},
       .default_metric = "auroc",
       .without_predictions = "the per-label table comes from metrics.jsonl and is unaffected.",
       .probability_columns = true,
       .before_curves = nothing,  // hundreds of labels: the table goes below the curves
       .after_curves = multilabel_labels},
  };
  return table;
}

const KindReport* kind_report(std::string_view kind) {
  for (const auto& entry : kind_reports())
    if (entry.kind == kind) return &entry;
  return nullptr;
}

}  // namespace

FinetuneParts finetune_parts(const json& run, const json& task_json, const std::vector<json>& rows,
                             const std::filesystem::path& run_dir,
                             std::vector<std::string>& notes) {
  Task task = read_task(task_json, notes);
  const auto train = split_rows(rows, "train"), valid = split_rows(rows, "valid"),
             test = split_rows(rows, "test");
  const json* test_row = test.empty() ? nullptr : test.back();
  // A run still training has neither a test row nor predictions yet, which is no fault to note.
  std::error_code unreadable;
  const bool untested =
      !test_row && !std::filesystem::exists(run::RunLayout(run_dir).test_predictions(), unreadable);
  std::optional<Predictions> predictions;
  if (task.kind && !untested)
    predictions = read_predictions(run::RunLayout(run_dir).test_predictions(),
                                   task.kind->without_predictions, notes);
  if (task.names.empty() && predictions)
    task.names = names_from_header(*predictions, task.kind->probability_columns);
  std::vector<const json*> evaluated = valid;
  evaluated.insert(evaluated.end(), test.begin(), test.end());
  const auto columns = metric_columns(task, evaluated);
  const Best best = find_best(task, valid);

  FinetuneParts parts;
  parts.summary_head.emplace_back("Task", task.kind_name.empty() ? kNone : task.kind_name);
  if (task.kind) parts.summary_head.emplace_back(task.kind->names_title, names_text(task.names));
  if (const auto examples = task_json.find("examples");
      examples != task_json.end() && examples->is_object()) {
    std::string counts;
    for (const char* split : {"train", "valid", "test"})
      if (const auto count = examples->find(split); count != examples->end())
        counts += (counts.empty() ? "" : " / ") + std::string(split) + " " + text_of(*count);
    if (!counts.empty()) parts.summary_head.emplace_back("Examples", counts);
  }
  double last_epoch = kNaN, last_step = kNaN;
  for (const auto& row : rows) {
    last_epoch = std::fmax(last_epoch, number(row, "epoch"));  // fmax ignores NaN
    last_step = std::fmax(last_step, number(row, "step"));
  }
  parts.summary_tail = {
      {"Last epoch", value_text(last_epoch)},
      {"Last step", value_text(last_step)},
      {"Best epoch", best_text(task, best)},
      {"Test metrics",
       test_row ? tested_weights(*test_row) + ": " + metrics_text(*test_row, task, columns)
                : std::string(kNone) + " (no test row in metrics.jsonl yet)"},
  };

  // The confusion matrix and per-target metrics come from the test row; until there is one, from
  // the last epoch's valid row, and the heading says so.
  const json* final_row = test_row ? test_row : valid.empty() ? nullptr : valid.back();
  const std::string source =
      test_row || !final_row ? "test" : "valid, epoch " + value_text(number(*final_row, "epoch"));
  std::string& body = parts.body;
  body = "<h2>Metrics by epoch</h2>\n" + epoch_table(valid, test, columns, best);
  const FinalInputs final_inputs{.final_row = final_row,
                                 .test_row = test_row,
                                 .source = source,
                                 .predictions = &predictions,
                                 .untested = untested,
                                 .names = &task.names};
  if (task.kind) body += task.kind->before_curves(final_inputs, notes);
  body += curves(run, train, valid, test_row, task.metric, notes);
  if (task.kind) body += task.kind->after_curves(final_inputs, notes);
  return parts;
}

}  // namespace genolm::report
