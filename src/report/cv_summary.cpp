#include "report/cv_summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <sstream>

#include "genolm/error.h"
#include "report/report_parts.h"
#include "report/svg_plot.h"
#include "util/files.h"

namespace genolm::report {

using nlohmann::json;

namespace {

// A test row's fields that say where and when, not how well.
bool bookkeeping(const std::string& key) {
  return key == "step" || key == "epoch" || key == "wall_s" || key == "split";
}

// The numeric fields of `object` (null counts: a metric a fold could not compute), named by
// their path.
void collect_names(const json& object, const std::string& prefix, std::vector<std::string>& top,
                   std::vector<std::string>& nested) {
  for (const auto& [key, value] : object.items()) {
    if (prefix.empty() && bookkeeping(key)) continue;
    const std::string name = prefix.empty() ? key : prefix + "." + key;
    if (value.is_object()) {
      collect_names(value, name, top, nested);
    } else if (value.is_number() || value.is_null()) {
      auto& names = prefix.empty() ? top : nested;
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  }
}

double value_at(const json& row, const std::string& name) {
  const json* node = &row;
  for (std::size_t start = 0; node->is_object();) {
    const std::size_t dot = name.find('.', start);
    const auto found = node->find(name.substr(start, dot - start));
    if (found == node->end()) return kNaN;
    node = &*found;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return node->is_number() ? node->get<double>() : kNaN;
}

json number_or_null(double value) {
  return std::isfinite(value) ? json(value) : json(nullptr);
}

std::string tsv_number(double value) {
  if (!std::isfinite(value)) return "nan";
  char text[32];
  std::snprintf(text, sizeof text, "%.8g", value);
  return text;
}

// A line of a prediction table with `field` after its first (the id).
std::string with_fold(const std::string& line, const std::string& field) {
  const std::size_t tab = line.find('\t');
  if (tab == std::string::npos) return line + "\t" + field;
  return line.substr(0, tab) + "\t" + field + line.substr(tab);
}

std::string fold_name(const CvFold& fold) {
  return "fold_" + std::to_string(fold.number);
}

// The report's tables: the top-level metrics fold by fold, then per target or label.
std::string fold_table(const std::vector<CvFold>& folds, const std::vector<CvMetric>& metrics) {
  std::string html = "<table>\n<tr><th>fold</th><th>test rows</th>";
  std::vector<const CvMetric*> shown;
  for (const auto& metric : metrics) {
    if (metric.name.find('.') != std::string::npos) continue;
    shown.push_back(&metric);
    html += "<th>" + escape_markup(metric.name) + "</th>";
  }
  html += "</tr>\n";
  const auto cell = [](double value) {
    return "<td class=\"number\">" +
           (std::isfinite(value) ? format_number(value) : std::string(kNone)) + "</td>";
  };
  for (std::size_t f = 0; f < folds.size(); ++f) {
    const std::string name = fold_name(folds[f]);
    html += "<tr><th><a href=\"" + name + "/report.html\">" + name + "</a>" +
            (folds[f].value.empty() ? "" : " (" + escape_markup(folds[f].value) + ")") +
            "</th><td class=\"number\">" + std::to_string(folds[f].rows.size()) + "</td>";
    for (const CvMetric* metric : shown)
      html += cell(metric->values[f]);
    html += "</tr>\n";
  }
  for (const bool mean : {true, false}) {
    html += std::string("<tr class=\"best\"><th>") + (mean ? "mean" : "sd") + "</th><td></td>";
    for (const CvMetric* metric : shown)
      html += cell(mean ? metric->mean : metric->sd);
    html += "</tr>\n";
  }
  return html + "</table>\n";
}

// "targets.hic_rt.spearman": group "targets.hic_rt", metric "spearman"; a table per group's parent.
std::string nested_tables(const std::vector<CvMetric>& metrics) {
  std::vector<std::string> groups, columns;
  std::map<std::pair<std::string, std::string>, const CvMetric*> cells;
  for (const auto& metric : metrics) {
    const std::size_t dot = metric.name.rfind('.');
    if (dot == std::string::npos) continue;
    const std::string group = metric.name.substr(0, dot), column = metric.name.substr(dot + 1);
    if (std::find(groups.begin(), groups.end(), group) == groups.end()) groups.push_back(group);
    if (std::find(columns.begin(), columns.end(), column) == columns.end())
      columns.push_back(column);
    cells[{group, column}] = &metric;
  }
  if (groups.empty()) return "";
  std::string html =
      "<h2>Each target or label (mean \u00b1 sd over the folds)</h2>\n<table>\n<tr><th></th>";
  for (const auto& column : columns)
    html += "<th>" + escape_markup(column) + "</th>";
  html += "</tr>\n";
  for (const auto& group : groups) {
    html += "<tr><th>" + escape_markup(group) + "</th>";
    for (const auto& column : columns) {
      const auto found = cells.find({group, column});
      const CvMetric* metric = found == cells.end() ? nullptr : found->second;
      html += "<td class=\"number\">" +
              (metric && std::isfinite(metric->mean)
                   ? format_number(metric->mean) +
                         (std::isfinite(metric->sd) ? " \u00b1 " + format_number(metric->sd) : "")
                   : std::string(kNone)) +
              "</td>";
    }
    html += "</tr>\n";
  }
  return html + "</table>\n";
}

std::string report_page(const run::RunLayout& layout, const std::vector<CvFold>& folds,
                        const json& about) {
  const auto metrics = cv_metrics(folds);
  std::size_t rows = 0;
  for (const auto& fold : folds)
    rows += fold.rows.size();
  TableRows summary{{"Run", layout.name()},
                    {"Cross-validation", std::to_string(folds.size()) + " folds"}};
  for (const auto& [key, value] : about.items())
    summary.emplace_back(key, text_of(value));
  summary.emplace_back("Rows tested (each once)", std::to_string(rows));
  summary.emplace_back("Out-of-fold predictions", layout.cv_predictions().filename().string());
  std::string html = page_start(layout.name() + " (cross-validation)");
  html += "<h2>Summary</h2>\n" + table(summary);
  html +=
      "<h2>Test metrics by fold</h2>\n<p>Each fold's test split is its own rows; sd is the "
      "sample standard deviation over the folds (divisor n \u2212 1). Every fold's own report "
      "is linked.</p>\n" +
      fold_table(folds, metrics) + nested_tables(metrics);
  if (const auto config = read_whole(layout.config()); config && !config->empty())
    html += "<h2>Recipe (config.toml)</h2>\n<pre>" + escape_markup(*config) + "</pre>\n";
  return html + "</body>\n</html>\n";
}

}  // namespace

std::vector<CvMetric> cv_metrics(const std::vector<CvFold>& folds) {
  std::vector<std::string> top, nested;
  for (const auto& fold : folds)
    if (fold.test.is_object()) collect_names(fold.test, "", top, nested);
  std::sort(top.begin(), top.end());
  top.insert(top.end(), nested.begin(), nested.end());
  std::vector<CvMetric> metrics;
  for (const auto& name : top) {
    CvMetric metric;
    metric.name = name;
    double sum = 0;
    for (const auto& fold : folds) {
      metric.values.push_back(value_at(fold.test, name));
      if (std::isfinite(metric.values.back())) sum += metric.values.back(), ++metric.finite;
    }
    const auto n = static_cast<double>(metric.finite);
    metric.mean = metric.finite > 0 ? sum / n : kNaN;
    double squares = 0;
    for (const double value : metric.values)
      if (std::isfinite(value)) squares += (value - metric.mean) * (value - metric.mean);
    metric.sd = metric.finite > 1 ? std::sqrt(squares / (n - 1)) : kNaN;
    metrics.push_back(std::move(metric));
  }
  return metrics;
}

json cv_summary_json(const std::vector<CvFold>& folds, const json& about) {
  json out = about;
  out["folds"] = json::array();
  for (const auto& fold : folds) {
    json entry = {{"fold", fold.number},
                  {"dir", fold_name(fold)},
                  {"test_rows", fold.rows.size()},
                  {"test", fold.test}};
    if (!fold.value.empty()) entry["value"] = fold.value;
    out["folds"].push_back(std::move(entry));
  }
  out["metrics"] = json::object();
  for (const auto& metric : cv_metrics(folds)) {
    json values = json::array();
    for (const double value : metric.values)
      values.push_back(number_or_null(value));
    out["metrics"][metric.name] = {{"mean", number_or_null(metric.mean)},
                                   {"sd", number_or_null(metric.sd)},
                                   {"folds", values}};
  }
  out["sd"] = "sample standard deviation over the folds with a value (divisor n - 1)";
  return out;
}

std::string cv_summary_table(const std::vector<CvFold>& folds) {
  const auto metrics = cv_metrics(folds);
  std::string text = "fold";
  for (const auto& metric : metrics)
    text += "\t" + metric.name;
  text += "\n";
  for (std::size_t f = 0; f < folds.size(); ++f) {
    text += std::to_string(folds[f].number);
    for (const auto& metric : metrics)
      text.append("\t").append(tsv_number(metric.values[f]));
    text += "\n";
  }
  for (const bool mean : {true, false}) {
    text += mean ? "mean" : "sd";
    for (const auto& metric : metrics)
      text.append("\t").append(tsv_number(mean ? metric.mean : metric.sd));
    text += "\n";
  }
  return text;
}

std::string cv_prediction_table(const run::RunLayout& layout, const std::vector<CvFold>& folds) {
  std::size_t total = 0;
  for (const auto& fold : folds)
    total += fold.rows.size();
  std::vector<std::optional<std::string>> lines(total);
  std::string header;
  for (const auto& fold : folds) {
    const auto file = layout.cv_fold(fold.number).test_predictions();
    const auto text = read_whole(file);
    if (!text) throw Error("cannot read " + file.string() + ": the fold has no test predictions");
    std::istringstream in(*text);
    std::string fold_header, line;
    std::getline(in, fold_header);
    if (header.empty()) header = fold_header;
    if (fold_header != header) {
      throw Error(file.string() + ": its header differs from fold 1's (expected '" + header + "')");
    }
    std::vector<std::string> fold_lines;
    while (std::getline(in, line))
      fold_lines.push_back(line);
    if (fold_lines.size() != fold.rows.size()) {
      throw Error(file.string() + ": " + std::to_string(fold_lines.size()) +
                  " prediction lines, expected " + std::to_string(fold.rows.size()) +
                  " (one per test row of the fold)");
    }
    const std::string number = std::to_string(fold.number);
    for (std::size_t i = 0; i < fold_lines.size(); ++i) {
      const std::size_t row = fold.rows[i];
      if (row >= total || lines[row]) {
        throw Error("cross-validation: row " + std::to_string(row + 1) +
                    " of the table is in two folds or out of range (expected each row in one)");
      }
      lines[row] = with_fold(fold_lines[i], number);
    }
  }
  std::string out = with_fold(header, "fold") + "\n";
  for (const auto& line : lines)
    out += *line + "\n";  // every row is set: the folds' rows add up to `total` without repeats
  return out;
}

void write_cv_summary(const run::RunLayout& layout, const std::vector<CvFold>& folds,
                      const json& about) {
  write_file_atomically(layout.cv_predictions(), cv_prediction_table(layout, folds));
  write_json_atomically(layout.cv_summary(), cv_summary_json(folds, about));
  write_file_atomically(layout.cv_table(), cv_summary_table(folds));
  write_file_atomically(layout.report(), report_page(layout, folds, about));
}

}  // namespace genolm::report
