// The learning-rate plot of a run report: every layer group's rate at every step, redrawn from the
// plan run.json records (train/lr_plan.h) with the function the trainer stepped by, the stages of
// gradual unfreezing marked where they begin. Runs from before the plan was recorded fall back to
// the rates their train rows logged, and a note says so.

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "genolm/error.h"
#include "report/report_parts.h"
#include "report/svg_plot.h"
#include "train/lr_plan.h"

namespace genolm::report {

using nlohmann::json;

namespace {

// Finer than the plot's 700 pixels: a longer stage is drawn at this many evenly spaced steps, its
// first and last included, which no eye tells from every step.
constexpr std::int64_t kPointsPerStage = 2000;

// The steps of one stage that the plot evaluates.
std::vector<std::int64_t> drawn_steps(const train::LrStage& stage) {
  std::vector<std::int64_t> steps;
  const std::int64_t last = stage.first_step + std::max<std::int64_t>(stage.steps, 1) - 1;
  if (stage.steps <= kPointsPerStage) {
    for (std::int64_t s = stage.first_step; s <= last; ++s)
      steps.push_back(s);
    return steps;
  }
  for (std::int64_t i = 0; i < kPointsPerStage; ++i)
    steps.push_back(stage.first_step + (last - stage.first_step) * i / (kPointsPerStage - 1));
  return steps;
}

// Top group darkest; the palette repeats beyond its length.
const char* group_color(std::size_t from_top) {
  static const char* const palette[] = {"#2ca02c", "#1f77b4", "#ff7f0e", "#9467bd",
                                        "#8c564b", "#e377c2", "#17becf", "#7f7f7f"};
  return palette[from_top % std::size(palette)];
}

std::string stage_label(const train::LrPlan& plan, std::size_t stage) {
  const std::size_t trainable = plan.stages[stage].trainable;
  const std::string what =
      trainable >= plan.groups.size()
          ? "all groups"
          : "top " + std::to_string(trainable) + " of " + std::to_string(plan.groups.size());
  return "stage " + std::to_string(stage + 1) + ": " + what;
}

PlotSpec plan_plot(const train::LrPlan& plan, const std::vector<const json*>& train,
                   const std::string& status) {
  PlotSpec spec{.title = "Learning rate by layer group, every step",
                .x_label = "step",
                .y_label = "learning rate",
                .include_zero = true};
  const std::size_t groups = plan.groups.size();
  std::vector<Series> by_group(groups);
  for (std::size_t g = 0; g < groups; ++g) {
    by_group[g].label = groups == 1 ? "planned" : plan.groups[g];
    by_group[g].color = group_color(groups - 1 - g);
  }
  for (std::size_t s = 0; s < plan.stages.size(); ++s) {
    for (const std::int64_t step : drawn_steps(plan.stages[s])) {
      const auto rates = plan.at(step);
      // The x axis counts steps done, as metrics.jsonl does: (0-based) step i is the (i + 1)-th,
      // and its rate is the one the row logged after it carries.
      for (std::size_t g = 0; g < groups; ++g) {
        by_group[g].x.push_back(static_cast<double>(step + 1));
        by_group[g].y.push_back(rates.lr[g]);
      }
    }
    for (auto& series : by_group) {  // each stage restarts its cycle: break the line between them
      series.x.push_back(kNaN);
      series.y.push_back(kNaN);
    }
    if (s > 0)  // after the steps of the stages before it
      spec.marks.push_back(
          {static_cast<double>(plan.stages[s].first_step), stage_label(plan, s), "#555555"});
  }
  // Legend from the top group down, the order in which unfreezing reaches them.
  for (std::size_t g = groups; g-- > 0;)
    spec.series.push_back(std::move(by_group[g]));
  Series logged =
      column(train, "lr", groups == 1 ? "logged" : "logged (top group)", false, "#d62728");
  logged.lines = false;
  spec.series.push_back(std::move(logged));
  // Where training stopped short of the plan: early stopping, an interruption, or a run going on.
  double last_step = kNaN;
  for (const json* row : train)
    last_step = std::fmax(last_step, number(*row, "step"));
  if (std::isfinite(last_step) && last_step < static_cast<double>(plan.total_steps()))
    spec.marks.push_back({last_step,
                          (status == "running" ? "step " : "stopped at step ") +
                              format_number(last_step, 9) +
                              (status.empty() ? "" : " (" + status + ")"),
                          "#d62728"});
  return spec;
}

}  // namespace

std::string learning_rate_plot(const json& run, const std::vector<const json*>& train,
                               std::vector<std::string>& notes) {
  const auto recorded = run.find("lr_plan");
  std::string problem =
      "run.json records no \"lr_plan\" (a run written before plans were recorded)";
  if (recorded != run.end()) {
    try {
      const auto plan = train::LrPlan::from_json(*recorded);
      const auto status = run.find("status");
      return svg_line_plot(
          plan_plot(plan, train,
                    status != run.end() && status->is_string() ? status->get<std::string>() : ""));
    } catch (const Error& e) {
      problem = e.what();
    }
  }
  notes.push_back(problem +
                  ": the learning-rate plot shows the top group's rate at the logged "
                  "steps only.");
  return svg_line_plot({.title = "Learning rate (logged steps)",
                        .x_label = "step",
                        .y_label = "learning rate",
                        .series = {column(train, "lr", "lr", false, "#2ca02c")},
                        .include_zero = true});
}

}  // namespace genolm::report
