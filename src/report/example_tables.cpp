// Tables of the report that look at classes and examples one by one: precision and recall per
// class from the confusion matrix, and the test examples the model got most wrong, from
// test_predictions.tsv. Like the rest of the report, they never throw on their inputs.

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "report/report_parts.h"
#include "report/svg_plot.h"

namespace genolm::report {

using nlohmann::json;

namespace {

constexpr std::size_t kWorstShown = 10;

std::string cell(double v) {
  return std::string("<td class=\"number\">") + (std::isfinite(v) ? format_number(v) : kNone) +
         "</td>";
}

std::string text_cell(const std::string& text) {
  return "<td>" + escape_markup(text) + "</td>";
}

// The first `shown` indices of `keys` from the largest down; ties keep file order.
std::vector<std::size_t> largest_first(const std::vector<double>& keys, std::size_t shown) {
  std::vector<std::size_t> order(keys.size());
  std::iota(order.begin(), order.end(), 0);
  std::ranges::stable_sort(order, [&](std::size_t a, std::size_t b) { return keys[a] > keys[b]; });
  order.resize(std::min(order.size(), shown));
  return order;
}

const std::string kWorstHeading = "<h2>Worst-predicted test examples</h2>\n";

}  // namespace

std::optional<std::vector<std::vector<double>>> confusion_counts(const json& matrix) {
  const std::size_t n = matrix.is_array() ? matrix.size() : 0;
  if (n == 0) return std::nullopt;
  std::vector<std::vector<double>> counts(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!matrix[i].is_array() || matrix[i].size() != n) return std::nullopt;
    for (const auto& count : matrix[i]) {
      if (!count.is_number() || count.get<double>() < 0) return std::nullopt;
      counts[i].push_back(count.get<double>());
    }
  }
  return counts;
}

std::string per_class_table(const std::vector<std::vector<double>>& counts,
                            const std::vector<std::string>& classes) {
  std::string html =
      "<table>\n<tr><th>class</th><th>precision</th><th>recall</th><th>F1</th>"
      "<th>support</th><th>predicted</th></tr>\n";
  for (std::size_t c = 0; c < counts.size(); ++c) {
    double support = 0, predicted = 0;
    for (std::size_t j = 0; j < counts.size(); ++j) {
      support += counts[c][j];
      predicted += counts[j][c];
    }
    const double hits = counts[c][c];
    // 0/0 stays NaN, a dash: a class never predicted has no precision, as none in the split has
    // no recall.
    const double precision = predicted > 0 ? hits / predicted : kNaN;
    const double recall = support > 0 ? hits / support : kNaN;
    const double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall)
                                             : (std::isfinite(precision + recall) ? 0 : kNaN);
    html += "<tr><th>" + escape_markup(c < classes.size() ? classes[c] : std::to_string(c)) +
            "</th>" + cell(precision) + cell(recall) + cell(f1) + cell(support) + cell(predicted) +
            "</tr>\n";
  }
  return html + "</table>\n";
}

std::string worst_classified(const Predictions& table, std::vector<std::string>& notes) {
  const int id = table.column("id"), label = table.column("label"),
            predicted = table.column("predicted");
  if (id < 0 || label < 0 || predicted < 0) {
    notes.push_back(
        "test_predictions.tsv lacks an id, label or predicted column: no worst-predicted "
        "examples.");
    return "";
  }
  // The probability given to the true class: the lower, the worse.
  std::vector<double> badness;
  std::vector<double> true_probability;
  for (const auto& row : table.rows) {
    const int column = table.column("prob_" + row[label]);
    const double p = column < 0 ? kNaN : parse_number(row[column]);
    true_probability.push_back(p);
    badness.push_back(std::isfinite(p) ? 1 - p : -1);  // unreadable rows sort last
  }
  std::string html = kWorstHeading +
                     "<p>The test examples given the lowest probability of their true class.</p>\n"
                     "<table>\n<tr><th>id</th><th>true</th><th>predicted</th>"
                     "<th>P(true class)</th><th>P(predicted class)</th></tr>\n";
  for (const std::size_t r : largest_first(badness, kWorstShown)) {
    if (badness[r] < 0) break;
    const auto& row = table.rows[r];
    const int column = table.column("prob_" + row[predicted]);
    html += "<tr>" + text_cell(row[id]) + text_cell(row[label]) + text_cell(row[predicted]) +
            cell(true_probability[r]) + cell(column < 0 ? kNaN : parse_number(row[column])) +
            "</tr>\n";
  }
  return html + "</table>\n";
}

std::string worst_regressed(const Predictions& table, const std::vector<std::string>& targets,
                            std::vector<std::string>& notes) {
  const int id = table.column("id");
  if (id < 0 || targets.empty()) {
    if (id < 0)
      notes.push_back("test_predictions.tsv has no id column: no worst-predicted examples.");
    return "";
  }
  // Errors are in each target's own units, so each target ranks its own examples.
  const std::size_t shown = targets.size() > 3 ? 5 : kWorstShown;
  std::string html = kWorstHeading + "<p>The " + std::to_string(shown) +
                     " test examples with the largest absolute error, per target, in the "
                     "target's own units.</p>\n<table>\n<tr><th>target</th><th>id</th>"
                     "<th>true</th><th>predicted</th><th>error</th></tr>\n";
  for (const auto& target : targets) {
    const int truth = table.column(target), predicted = table.column(target + "_pred");
    if (truth < 0 || predicted < 0) continue;  // the scatter section notes it
    std::vector<double> error;
    for (const auto& row : table.rows) {
      const double e = parse_number(row[predicted]) - parse_number(row[truth]);
      error.push_back(std::isfinite(e) ? std::abs(e) : -1);
    }
    for (const std::size_t r : largest_first(error, shown)) {
      if (error[r] < 0) break;
      const auto& row = table.rows[r];
      html += "<tr>" + text_cell(target) + text_cell(row[id]) + cell(parse_number(row[truth])) +
              cell(parse_number(row[predicted])) +
              cell(parse_number(row[predicted]) - parse_number(row[truth])) + "</tr>\n";
    }
  }
  return html + "</table>\n";
}

std::string worst_multilabelled(const Predictions& table, const std::vector<std::string>& labels,
                                std::vector<std::string>& notes) {
  const int id = table.column("id");
  std::vector<std::pair<int, int>> columns;  // truth, probability
  for (const auto& label : labels)
    if (const int truth = table.column(label), prob = table.column("prob_" + label);
        truth >= 0 && prob >= 0)
      columns.emplace_back(truth, prob);
  if (id < 0 || columns.empty()) {
    notes.push_back(
        "test_predictions.tsv lacks an id column or the labels beside their probabilities: no "
        "worst-predicted examples.");
    return "";
  }
  // Each example's mean binary cross-entropy over its labels, and its labels wrong at 0.5.
  constexpr double kFloor = 1e-7;
  std::vector<double> log_loss;
  std::vector<std::vector<std::string>> wrong(table.rows.size());
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    double sum = 0;
    std::size_t counted = 0;
    for (std::size_t l = 0; l < columns.size(); ++l) {
      const double y = parse_number(table.rows[r][columns[l].first]);
      const double p =
          std::clamp(parse_number(table.rows[r][columns[l].second]), kFloor, 1 - kFloor);
      if (!std::isfinite(y) || !std::isfinite(p)) continue;
      sum -= y > 0.5 ? std::log(p) : std::log(1 - p);
      ++counted;
      if ((p >= 0.5) != (y > 0.5)) wrong[r].push_back(labels[l]);
    }
    log_loss.push_back(counted > 0 ? sum / static_cast<double>(counted) : -1);
  }
  std::string html = kWorstHeading +
                     "<p>The test examples with the highest mean binary cross-entropy over their "
                     "labels.</p>\n<table>\n<tr><th>id</th><th>mean log loss</th>"
                     "<th>labels wrong at 0.5</th></tr>\n";
  for (const std::size_t r : largest_first(log_loss, kWorstShown)) {
    if (log_loss[r] < 0) break;
    std::vector<std::string> named(wrong[r].begin(),
                                   wrong[r].begin() + std::min<std::size_t>(wrong[r].size(), 5));
    std::string listed = wrong[r].empty() ? "none" : joined(named);
    if (wrong[r].size() > named.size())
      listed += ", ... (" + std::to_string(wrong[r].size()) + " in all)";
    html +=
        "<tr>" + text_cell(table.rows[r][id]) + cell(log_loss[r]) + text_cell(listed) + "</tr>\n";
  }
  return html + "</table>\n";
}

}  // namespace genolm::report
