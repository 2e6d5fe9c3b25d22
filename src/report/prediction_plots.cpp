// What only the test predictions can show: ROC curves of a classifier and predicted against true
// values of a regressor, from test_predictions.tsv. Like the rest of the report it never throws on
// its inputs: a missing column or an unreadable field becomes a note or a skipped point.

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "report/report_parts.h"
#include "report/svg_plot.h"
#include "train/task_metrics.h"

namespace genolm::report {

using nlohmann::json;

namespace {

// Beyond this many points a scatter plot is a blot and the page grows by megabytes.
constexpr std::size_t kMaxDots = 4000;

std::vector<std::string> split_tabs(std::string_view line) {
  std::vector<std::string> fields;
  for (std::size_t start = 0;;) {
    const std::size_t tab = line.find('\t', start);
    fields.emplace_back(line.substr(start, tab - start));
    if (tab == std::string_view::npos) return fields;
    start = tab + 1;
  }
}

// One target's metric in a row's "targets" object; NaN when any part is missing.
double target_metric(const json* row, const std::string& target, const char* key) {
  if (!row) return kNaN;
  const auto targets = row->find("targets");
  if (targets == row->end() || !targets->is_object()) return kNaN;
  const auto metrics = targets->find(target);
  return metrics == targets->end() ? kNaN : number(*metrics, key);  // find() on a non-object: end
}

}  // namespace

double parse_number(const std::string& field) {
  if (field.empty()) return kNaN;
  char* end = nullptr;
  const double v = std::strtod(field.c_str(), &end);
  return end == field.c_str() + field.size() ? v : kNaN;
}

int Predictions::column(const std::string& name) const {
  const auto found = std::ranges::find(header, name);
  return found == header.end() ? -1 : static_cast<int>(found - header.begin());
}

std::optional<Predictions> read_predictions(const std::filesystem::path& file,
                                            const std::string& lacking,
                                            std::vector<std::string>& notes) {
  const auto text = read_whole(file);
  if (!text) {
    notes.push_back("test_predictions.tsv is missing: " + lacking);
    return std::nullopt;
  }
  Predictions out;
  std::size_t skipped = 0;
  std::string_view rest(*text);
  while (!rest.empty()) {
    const std::size_t end = std::min(rest.find('\n'), rest.size());
    std::string_view line = rest.substr(0, end);
    rest.remove_prefix(std::min(end + 1, rest.size()));
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty()) continue;
    auto fields = split_tabs(line);
    if (out.header.empty())
      out.header = std::move(fields);
    else if (fields.size() == out.header.size())
      out.rows.push_back(std::move(fields));
    else
      ++skipped;
  }
  if (out.header.empty()) {
    notes.push_back("test_predictions.tsv is empty: " + lacking);
    return std::nullopt;
  }
  if (skipped > 0)
    notes.push_back(std::to_string(skipped) +
                    " line(s) of test_predictions.tsv have more or fewer fields than its header "
                    "and were skipped.");
  return out;
}

std::vector<std::string> names_from_header(const Predictions& table, bool classification) {
  std::vector<std::string> names;
  for (const auto& name : table.header) {
    if (classification && name.starts_with("prob_")) names.push_back(name.substr(5));
    if (!classification && name.ends_with("_pred") &&
        table.column(name.substr(0, name.size() - 5)) >= 0)
      names.push_back(name.substr(0, name.size() - 5));
  }
  return names;
}

RocPoints roc_points(const std::vector<double>& scores, const std::vector<bool>& positive) {
  RocPoints roc;
  const std::size_t n = std::min(scores.size(), positive.size());
  const auto positives =
      static_cast<double>(std::count(positive.begin(), positive.begin() + n, true));
  const double negatives = static_cast<double>(n) - positives;
  if (positives == 0 || negatives == 0) return roc;
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::ranges::sort(order, [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  double tp = 0, fp = 0;
  roc.false_positive_rate = {0};
  roc.true_positive_rate = {0};
  roc.auroc = 0;
  for (std::size_t i = 0; i < n;) {
    // One threshold takes every example with its score at once.
    for (const double score = scores[order[i]]; i < n && scores[order[i]] == score; ++i)
      (positive[order[i]] ? tp : fp) += 1;
    const double x = fp / negatives, y = tp / positives;
    roc.auroc += (x - roc.false_positive_rate.back()) * (y + roc.true_positive_rate.back()) / 2;
    roc.false_positive_rate.push_back(x);
    roc.true_positive_rate.push_back(y);
  }
  return roc;
}

namespace {

// A note once: the ROC and the precision-recall sections read the same columns and would
// otherwise say the same thing twice.
void note_once(std::vector<std::string>& notes, std::string note) {
  if (std::ranges::find(notes, note) == notes.end()) notes.push_back(std::move(note));
}

// One class's curve against the rest, on the axes of its kind, and the area its legend gives.
struct ClassCurve {
  std::vector<double> x, y;
  double area = kNaN;  // NaN: the class has only positives or only negatives here
};

ClassCurve roc_curve_of(const std::vector<double>& scores, const std::vector<bool>& positive) {
  RocPoints roc = roc_points(scores, positive);
  return {std::move(roc.false_positive_rate), std::move(roc.true_positive_rate), roc.auroc};
}

ClassCurve precision_recall_of(const std::vector<double>& scores,
                               const std::vector<bool>& positive) {
  if (std::ranges::find(positive, false) == positive.end()) return {};  // no negatives
  auto curve = train::precision_recall_curve(scores, positive);
  if (curve.recall.empty()) return {};  // no positives
  return {std::move(curve.recall), std::move(curve.precision),
          train::average_precision(scores, positive)};
}

// ROC or precision-recall: what differs between the two per-class sections.
struct CurveKind {
  std::string name, title, x_label, y_label, area_name;
  ClassCurve (*curve)(const std::vector<double>&, const std::vector<bool>&);
  // The line a guess draws: ROC's diagonal, or the share of positives for precision.
  void (*chance)(PlotSpec& spec, double positive_share, bool binary);
};

// One curve for two classes (the probability of the second scores it), else one per class
// against the rest.
std::string class_curves(const Predictions& table, const std::vector<std::string>& classes,
                         const CurveKind& kind, std::vector<std::string>& notes) {
  const std::string heading = "<h2>" + kind.title + "</h2>\n";
  const int label = table.column("label");
  if (label < 0 || classes.size() < 2) {
    note_once(notes, label < 0 ? "test_predictions.tsv has no \"label\" column: no ROC or "
                                 "precision-recall curves."
                               : "Fewer than two classes are known: no ROC or precision-recall "
                                 "curves.");
    return heading + "<p class=\"note\">Not available.</p>\n";
  }
  std::map<std::string, std::size_t> index;
  for (std::size_t c = 0; c < classes.size(); ++c)
    index.emplace(classes[c], c);
  std::vector<std::size_t> truth;  // per row; classes.size() for a label no class has
  std::size_t unknown = 0;
  for (const auto& row : table.rows) {
    const auto found = index.find(row[label]);
    truth.push_back(found == index.end() ? classes.size() : found->second);
    unknown += found == index.end();
  }
  if (unknown > 0)
    note_once(notes, std::to_string(unknown) +
                         " row(s) of test_predictions.tsv have a label that is not one of the "
                         "classes; the ROC and precision-recall curves leave them out.");
  PlotSpec spec{.title = kind.title,
                .x_label = kind.x_label,
                .y_label = kind.y_label,
                .width = 480,
                .height = 470,
                .x_range = AxisRange{0, 1},
                .y_range = AxisRange{0, 1}};
  const bool binary = classes.size() == 2;
  double positive_share = kNaN;
  std::vector<std::string> missing, one_sided;
  for (std::size_t c = binary ? 1 : 0; c < classes.size(); ++c) {
    const int prob = table.column("prob_" + classes[c]);
    if (prob < 0) {
      missing.push_back("prob_" + classes[c]);
      continue;
    }
    std::vector<double> scores;
    std::vector<bool> positive;
    for (std::size_t r = 0; r < table.rows.size(); ++r)
      if (const double score = parse_number(table.rows[r][prob]);
          truth[r] < classes.size() && std::isfinite(score)) {
        scores.push_back(score);
        positive.push_back(truth[r] == c);
      }
    ClassCurve curve = kind.curve(scores, positive);
    if (!std::isfinite(curve.area)) {
      one_sided.push_back(classes[c]);
      continue;
    }
    positive_share = static_cast<double>(std::ranges::count(positive, true)) /
                     static_cast<double>(positive.size());
    spec.series.push_back(
        {.label = (binary ? classes[1] + " vs " + classes[0] : classes[c] + " vs rest") + " (" +
                  kind.area_name + " " + format_number(curve.area) + ")",
         .x = std::move(curve.x),
         .y = std::move(curve.y)});
  }
  if (!missing.empty())
    note_once(notes, "test_predictions.tsv lacks the column(s) " + joined(missing) +
                         ": those ROC and precision-recall curves are left out.");
  if (!one_sided.empty())
    note_once(notes, "The test predictions hold only positives or only negatives of " +
                         joined(one_sided) + ": no ROC or precision-recall curve for them.");
  if (spec.series.empty())
    return heading + "<p class=\"note\">No " + kind.name + " curve to draw.</p>\n";
  kind.chance(spec, positive_share, binary);
  return heading + svg_line_plot(spec);
}

}  // namespace

std::string roc_section(const Predictions& table, const std::vector<std::string>& classes,
                        std::vector<std::string>& notes) {
  const CurveKind roc{
      .name = "ROC",
      .title = "ROC curves (test)",
      .x_label = "false positive rate",
      .y_label = "true positive rate",
      .area_name = "AUROC",
      .curve = roc_curve_of,
      .chance = [](PlotSpec& spec, double, bool) {
        spec.series.push_back({.label = "chance", .x = {0, 1}, .y = {0, 1}, .color = "#999999"});
      }};
  return class_curves(table, classes, roc, notes);
}

std::string precision_recall_section(const Predictions& table,
                                     const std::vector<std::string>& classes,
                                     std::vector<std::string>& notes) {
  const CurveKind precision_recall{
      .name = "precision-recall",
      .title = "Precision-recall curves (test)",
      .x_label = "recall",
      .y_label = "precision",
      .area_name = "AP",
      .curve = precision_recall_of,
      // A guess's precision is the share of positives, one per class: drawn for one curve only.
      .chance = [](PlotSpec& spec, double positive_share, bool binary) {
        if (binary && std::isfinite(positive_share))
          spec.references.push_back({positive_share, "chance (share of positives " +
                                                         format_number(positive_share, 3) + ")"});
      }};
  return class_curves(table, classes, precision_recall, notes);
}

std::string scatter_section(const Predictions& table, const std::vector<std::string>& targets,
                            const json* test_row, std::vector<std::string>& notes) {
  std::string html = "<h2>Predicted vs true (test)</h2>\n";
  if (targets.empty()) return html + "<p class=\"note\">No targets are known.</p>\n";
  html += "<div class=\"columns\">\n";
  std::vector<std::string> missing;
  for (const auto& target : targets) {
    const int truth = table.column(target), predicted = table.column(target + "_pred");
    if (truth < 0 || predicted < 0) {
      missing.push_back(target);
      continue;
    }
    Series dots{.color = "#1f77b4", .lines = false};
    double lo = INFINITY, hi = -INFINITY;
    for (const auto& row : table.rows) {
      const double x = parse_number(row[truth]), y = parse_number(row[predicted]);
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      dots.x.push_back(x);
      dots.y.push_back(y);
      lo = std::min({lo, x, y});
      hi = std::max({hi, x, y});
    }
    const std::size_t n = dots.x.size();
    PlotSpec spec{
        .title = target, .x_label = "true", .y_label = "predicted", .width = 460, .height = 450};
    if (const std::size_t stride = (n + kMaxDots - 1) / kMaxDots; stride > 1) {
      // Every stride-th point, in file order: a thinned cloud keeps its shape.
      std::size_t kept = 0;
      for (std::size_t i = 0; i < n; i += stride, ++kept)
        dots.x[kept] = dots.x[i], dots.y[kept] = dots.y[i];
      dots.x.resize(kept);
      dots.y.resize(kept);
      spec.title += " (1 point in " + std::to_string(stride) + " shown)";
    }
    dots.label = "test, n = " + std::to_string(n);
    if (const double r2 = target_metric(test_row, target, "r2"); std::isfinite(r2))
      dots.label += ", R\u00b2 " + format_number(r2);
    spec.series.push_back(std::move(dots));
    if (lo < hi) {
      // Equal axes, so that the y = x line is the diagonal and a bias shows as a tilt or shift.
      spec.series.push_back({.label = "y = x", .x = {lo, hi}, .y = {lo, hi}, .color = "#999999"});
      spec.x_range = spec.y_range = AxisRange{lo, hi};
    }
    html += "<div>\n" + svg_line_plot(spec) + "</div>\n";
  }
  if (!missing.empty())
    notes.push_back("test_predictions.tsv lacks the true or the _pred column of " +
                    joined(missing) + ": no scatter plot for them.");
  return html + "</div>\n";
}

}  // namespace genolm::report
