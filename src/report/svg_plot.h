#pragma once
// Line plots as self-contained SVG text, for reports that must open anywhere: no script, no fonts
// to fetch, no styles from outside. Generic on purpose, so every report (loss curves, ROC curves,
// scatter plots of predicted against true values) draws with the same axes and ticks.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace genolm::report {

// Every member has a default, so designated initializers such as
// Series{.label = "train", .x = steps, .y = losses} leave the rest out without a warning.
struct Series {
  std::string label{};      // shown in the legend; empty leaves the series out of it
  std::vector<double> x{};  // x[i] pairs with y[i]; points where either is NaN, infinite (or
  std::vector<double> y{};  // beyond 1e300) are skipped, and the line breaks there
  bool markers = false;     // a dot on every point (for sparse series such as validation)
  std::string color{};      // any SVG colour; empty picks the next one of a palette
  bool lines = true;        // false draws the points alone, as translucent dots (a scatter plot)
};

// An axis range chosen by the caller instead of the data's extent.
struct AxisRange {
  double lo = 0;
  double hi = 1;
};

// A dashed horizontal line across the plot, labelled at its right end (a baseline to beat).
struct ReferenceLine {
  double y = 0;
  std::string label{};
  std::string color = "#555555";
};

// A dashed vertical line at x, labelled near the top (where a stage of training begins). Marks
// outside the data's x extent are not drawn.
struct VerticalMark {
  double x = 0;
  std::string label{};
  std::string color = "#555555";
};

struct PlotSpec {
  std::string title{};
  std::string x_label{};
  std::string y_label{};
  std::vector<Series> series{};
  std::vector<ReferenceLine> references{};
  std::vector<VerticalMark> marks{};
  bool log_y = false;         // logarithmic y axis; points with y <= 0 are then skipped
  bool include_zero = false;  // linear y range reaches 0 (for rates, so noise is not magnified)
  int width = 720;
  int height = 360;
  // Fixed ranges (rounded out to tick values) replace the data's extent on their axis, so that
  // plots compare at a glance: a ROC curve sits in 0..1 by 0..1 whatever its points. Points beyond
  // them are not drawn. A range that is not finite with lo < hi (or lo <= 0 on a log axis) is
  // ignored.
  std::optional<AxisRange> x_range{};
  std::optional<AxisRange> y_range{};
};

// An <svg> element with title, axes, "nice" ticks (1, 2 or 5 times a power of ten), grid lines and
// a legend. Unless fixed, the ranges cover every finite point and reference line, padded when they
// are a single value; a plot with nothing to draw says "no data" and never throws.
std::string svg_line_plot(const PlotSpec& spec);

// Text made safe for HTML and SVG, in element content and in quoted attributes alike.
std::string escape_markup(std::string_view text);

// A number in at most `significant` significant digits, without trailing zeros ("0.002", "1.31",
// "2401", "1.5e-05"); "NaN" or "inf" for the others.
std::string format_number(double value, int significant = 4);

}  // namespace genolm::report
