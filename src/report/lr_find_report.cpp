#include "report/lr_find_report.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "report/svg_plot.h"
#include "util/files.h"

namespace genolm::report {
namespace {

using nlohmann::json;

std::string rate(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2e", value);
  return text;
}

json pick_json(const train::LrPick& pick, const train::LrCurve& curve) {
  return {{"lr", pick.lr}, {"step", pick.step}, {"smoothed_loss", curve.smoothed[pick.step]}};
}

json to_json(const LrFindReport& r) {
  const auto& o = r.options;
  json out = {{"name", r.name},
              {"command", r.command},
              {"recipe", r.recipe_file},
              {"rate_key", r.rate_key},
              {"options",
               {{"steps", o.steps},
                {"start_lr", o.start_lr},
                {"end_lr", o.end_lr},
                {"beta", o.beta},
                {"divergence", o.divergence}}},
              {"steps_run", r.curve.size()},
              {"diverged", r.curve.diverged},
              {"suggestion", nullptr}};
  if (r.suggestions) {
    const auto& s = *r.suggestions;
    out["suggestion"] = {{"rule", "valley"}, {"lr", s.valley.lr}};
    out["valley"] = pick_json(s.valley, r.curve);
    out["steep"] = pick_json(s.steep, r.curve);
    out["minimum"] = pick_json(s.minimum, r.curve);
    out["minimum"]["note"] = "lr is the rate at the lowest smoothed loss / 10";
    out["read_steps"] = {s.first, s.last};
  }
  json curve = json::array();
  for (std::size_t i = 0; i < r.curve.size(); ++i) {
    // NaN and infinity become null (JSON has neither).
    curve.push_back({{"step", i},
                     {"lr", r.curve.lrs[i]},
                     {"loss", r.curve.losses[i]},
                     {"smoothed_loss", r.curve.smoothed[i]}});
  }
  out["curve"] = std::move(curve);
  return out;
}

std::string tsv(const train::LrCurve& curve) {
  std::string text = "step\tlr\tloss\tsmoothed_loss\n";
  char line[128];
  for (std::size_t i = 0; i < curve.size(); ++i) {
    std::snprintf(line, sizeof line, "%zu\t%.6e\t%.6g\t%.6g\n", i, curve.lrs[i], curve.losses[i],
                  curve.smoothed[i]);
    text += line;
  }
  return text;
}

// One marked point of the plot, in the legend with its rate.
Series mark(const train::LrCurve& curve, std::size_t step, std::string label, std::string color) {
  return {.label = std::move(label),
          .x = {std::log10(curve.lrs[step])},
          .y = {curve.smoothed[step]},
          .markers = true,
          .color = std::move(color)};
}

std::string plot(const LrFindReport& r) {
  const auto& curve = r.curve;
  // As fastai plots it: without the last 5 steps, where the loss shoots up and would squash the
  // rest (unless that leaves too little).
  const std::size_t shown = curve.size() > 7 ? curve.size() - 5 : curve.size();
  Series smoothed{.label = "smoothed loss", .color = "#1f77b4"};
  for (std::size_t i = 0; i < shown; ++i) {
    smoothed.x.push_back(std::log10(curve.lrs[i]));
    smoothed.y.push_back(curve.smoothed[i]);
  }
  PlotSpec spec{.title = "Smoothed training loss against the learning rate",
                .x_label = "learning rate (log10)",
                .y_label = "loss",
                .series = {std::move(smoothed)}};
  if (r.suggestions) {
    const auto& s = *r.suggestions;
    spec.series.push_back(
        mark(curve, s.valley.step, "valley (suggested) " + rate(s.valley.lr), "#d62728"));
    spec.series.push_back(mark(curve, s.steep.step, "steepest " + rate(s.steep.lr), "#ff7f0e"));
    spec.series.push_back(mark(curve, s.minimum.step,
                               "minimum (its rate / 10: " + rate(s.minimum.lr) + ")", "#2ca02c"));
  }
  return svg_line_plot(spec);
}

std::string row(const std::string& name, const std::string& value) {
  return "<tr><th>" + escape_markup(name) + "</th><td>" + escape_markup(value) + "</td></tr>\n";
}

std::string page(const LrFindReport& r) {
  const auto& o = r.options;
  std::string summary;
  summary += row("recipe", r.recipe_file.empty() ? "(none)" : r.recipe_file);
  summary += row("model", r.command == "finetune" ? "fine-tuning (classifier)" : "language model");
  summary += row("rates", rate(o.start_lr) + " to " + rate(o.end_lr) + ", exponentially, over " +
                              std::to_string(o.steps) + " steps");
  summary += row("steps taken", std::to_string(r.curve.size()) +
                                    (r.curve.diverged ? " (stopped: the loss diverged)" : ""));
  if (r.suggestions) {
    const auto& s = *r.suggestions;
    summary += row("suggested rate (valley)", rate(s.valley.lr) + ", for " + r.rate_key);
    summary += row("steepest descent", rate(s.steep.lr));
    summary += row("minimum / 10", rate(s.minimum.lr));
    summary += row("steps read", std::to_string(s.first) + " to " + std::to_string(s.last - 1));
  } else {
    summary += row("suggested rate", "none: too few steps with a finite loss");
  }
  const std::string title = "Learning-rate finder: " + r.name;
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
         escape_markup(title) +
         "</title>\n<style>\nbody { font-family: sans-serif; color: #222; max-width: 1000px; "
         "margin: 24px auto; padding: 0 16px; }\ntable { border-collapse: collapse; }\nth, td { "
         "border: 1px solid #ddd; padding: 4px 10px; text-align: left; }\nth { background: "
         "#f5f5f5; font-weight: normal; color: #555; }\nsvg { max-width: 100%; height: auto; "
         "}\n.note { color: #777; }\n</style>\n</head>\n<body>\n<h1>" +
         escape_markup(title) + "</h1>\n<table>\n" + summary + "</table>\n" + plot(r) +
         "<p class=\"note\">Each step trains one mini-batch at a rate growing exponentially; the "
         "loss is smoothed (exponential moving average, beta " +
         format_number(o.beta) + ", bias-corrected) and the sweep stops once it exceeds " +
         format_number(o.divergence) +
         " times its minimum. The suggestion is fastai's valley rule: a rate a bit past a third of "
         "the way down the longest descent of the curve. The weights were not saved. The curve is "
         "in " +
         std::string(kLrFindTable) + " and " + kLrFindJson + ".</p>\n</body>\n</html>\n";
}

}  // namespace

void write_lr_find_report(const std::filesystem::path& dir, const LrFindReport& report) {
  std::filesystem::create_directories(dir);
  write_file_atomically(dir / kLrFindTable, tsv(report.curve));
  write_json_atomically(dir / kLrFindJson, to_json(report));
  write_file_atomically(dir / kLrFindPage, page(report));
}

}  // namespace genolm::report
