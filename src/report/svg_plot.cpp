#include "report/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <utility>

namespace genolm::report {
namespace {

constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                    "#9467bd", "#8c564b", "#e377c2", "#17becf"};
constexpr double kCharWidth = 6.8;  // rough width of a 12px sans-serif character, for layout

// An axis from data to pixels. Its ends are tick values, so the frame starts and ends on a label.
struct Axis {
  double lo = 0, hi = 1;  // data values at the two ends
  bool log = false;
  std::vector<double> ticks;
  double from = 0, to = 1;         // pixels at lo and hi
  std::optional<AxisRange> fixed;  // the caller's range: points beyond it are not drawn

  double pixel(double v) const {
    const double t = log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo))
                         : (v - lo) / (hi - lo);
    return from + t * (to - from);
  }
};

// The smallest 1, 2 or 5 times a power of ten that splits `span` into at most ~`parts` steps.
double nice_step(double span, int parts) {
  const double raw = span / parts;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double factor : {1.0, 2.0, 5.0})
    if (raw <= factor * magnitude * (1 + 1e-9)) return factor * magnitude;
  return 10 * magnitude;
}

Axis linear_axis(double lo, double hi) {
  // One value, or two that differ in their last digits: pad around them so they sit mid-axis.
  if (!(hi - lo > 1e-9 * std::max(std::abs(lo), std::abs(hi)))) {
    const double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double step = nice_step(hi - lo, 5);
  const double first = std::floor(lo / step + 1e-9), last = std::ceil(hi / step - 1e-9);
  Axis axis;
  axis.lo = first * step;
  axis.hi = last * step;
  // Tick i is (first + i) * step rather than a running sum, so no rounding error builds up.
  const int count = static_cast<int>(std::min(last - first, 20.0));
  for (int i = 0; i <= count; ++i)
    axis.ticks.push_back(first + i == 0 ? 0 : (first + i) * step);
  return axis;
}

// Ticks at 1, 2 and 5 times powers of ten over a few decades, at powers of ten over more.
Axis log_axis(double lo, double hi) {
  double top = std::log10(hi), bottom = std::log10(lo);
  if (top - bottom < 1e-9) {
    bottom -= 0.5;
    top += 0.5;
  }
  const int first = static_cast<int>(std::floor(bottom)), last = static_cast<int>(std::ceil(top));
  const bool fine = last - first <= 2;
  const int stride = fine ? 1 : std::max(1, (last - first + 7) / 8);
  static constexpr double kFactors[] = {1, 2, 5};
  const std::span<const double> factors(kFactors, fine ? 3 : 1);
  std::vector<double> candidates;
  for (int k = first; k < last + stride; k += stride)
    for (double factor : factors)
      candidates.push_back(factor * std::pow(10.0, k));
  Axis axis;
  axis.log = true;
  axis.lo = candidates.front();
  axis.hi = candidates.back();
  for (double c : candidates) {
    if (c <= std::pow(10.0, bottom) * (1 + 1e-9)) axis.lo = c;
    if (c >= std::pow(10.0, top) * (1 - 1e-9)) {
      axis.hi = c;
      break;
    }
  }
  for (double c : candidates)
    if (c >= axis.lo && c <= axis.hi) axis.ticks.push_back(c);
  return axis;
}

// Beyond 1e300 a range would overflow to infinity; such values are drawn as if they were inf.
bool usable(double x, double y, bool log_y) {
  constexpr double kHuge = 1e300;
  return std::abs(x) <= kHuge && std::abs(y) <= kHuge && (!log_y || y >= 1 / kHuge);
}

// An axis fitted to the data holds every usable point; a fixed one only those in its range.
bool within(const std::optional<AxisRange>& range, double v) {
  return !range || (v >= range->lo && v <= range->hi);
}

std::string px(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", v);
  return text;
}

std::string text_element(double x, double y, const std::string& anchor, const std::string& text,
                         const std::string& extra = "") {
  return "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" text-anchor=\"" + anchor + "\"" + extra +
         ">" + escape_markup(text) + "</text>\n";
}

// One <polyline> per run of usable points, so a NaN breaks the line instead of bridging the gap.
// Dots alone share one translucent group, so that dense clouds show where points pile up.
std::string draw_series(const Series& series, const std::string& color, const Axis& x,
                        const Axis& y) {
  std::string out, points;
  const auto flush = [&] {
    if (!points.empty())
      out += "<polyline fill=\"none\" stroke=\"" + color +
             "\" stroke-width=\"1.8\" stroke-linejoin=\"round\" points=\"" + points + "\"/>\n";
    points.clear();
  };
  if (!series.lines) out += "<g fill=\"" + color + "\" fill-opacity=\"0.55\">\n";
  const std::size_t n = std::min(series.x.size(), series.y.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (!usable(series.x[i], series.y[i], y.log) || !within(x.fixed, series.x[i]) ||
        !within(y.fixed, series.y[i])) {
      flush();
      continue;
    }
    const std::string cx = px(x.pixel(series.x[i])), cy = px(y.pixel(series.y[i]));
    if (!series.lines) {
      out += "<circle cx=\"" + cx + "\" cy=\"" + cy + "\" r=\"2.5\"/>\n";
      continue;
    }
    points += (points.empty() ? "" : " ") + cx + "," + cy;
    if (series.markers)
      out += "<circle cx=\"" + cx + "\" cy=\"" + cy + "\" r=\"3\" fill=\"" + color + "\"/>\n";
  }
  if (!series.lines) return out + "</g>\n";
  flush();
  return out;
}

std::string series_color(const Series& series, std::size_t index) {
  return series.color.empty() ? kPalette[index % std::size(kPalette)] : escape_markup(series.color);
}

struct Ranges {
  double x_lo, x_hi, y_lo, y_hi;
  bool has_data;  // some point is drawn
  bool has_y;     // some point or reference line is drawn
};

// The caller's range when it can make an axis, else nothing (and the data decide).
std::optional<AxisRange> valid_range(const std::optional<AxisRange>& range, bool log) {
  if (!range || !usable(range->lo, range->hi, log) || !(range->lo < range->hi)) return std::nullopt;
  if (log && !usable(0, range->lo, true)) return std::nullopt;
  return range;
}

// The extent of every usable point; reference lines widen y so that they are always in view.
// Fixed ranges replace the extent on their axis, and points beyond them do not count.
Ranges data_ranges(const PlotSpec& spec) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const auto x_range = valid_range(spec.x_range, false),
             y_range = valid_range(spec.y_range, spec.log_y);
  Ranges r{kInf, -kInf, kInf, -kInf, false, false};
  for (const auto& series : spec.series)
    for (std::size_t i = 0; i < std::min(series.x.size(), series.y.size()); ++i)
      if (usable(series.x[i], series.y[i], spec.log_y) && within(x_range, series.x[i]) &&
          within(y_range, series.y[i])) {
        r.x_lo = std::min(r.x_lo, series.x[i]);
        r.x_hi = std::max(r.x_hi, series.x[i]);
        r.y_lo = std::min(r.y_lo, series.y[i]);
        r.y_hi = std::max(r.y_hi, series.y[i]);
        r.has_data = true;
      }
  if (!r.has_data) {
    r.x_lo = 0;
    r.x_hi = 1;
  }
  for (const auto& reference : spec.references)
    if (usable(0, reference.y, spec.log_y)) {
      r.y_lo = std::min(r.y_lo, reference.y);
      r.y_hi = std::max(r.y_hi, reference.y);
    }
  r.has_y = r.y_lo <= r.y_hi;
  if (spec.include_zero && !spec.log_y && r.has_y) {
    r.y_lo = std::min(r.y_lo, 0.0);
    r.y_hi = std::max(r.y_hi, 0.0);
  }
  if (!r.has_y) {  // nothing at all: an empty frame over a plain range
    r.y_lo = spec.log_y ? 1 : 0;
    r.y_hi = spec.log_y ? 10 : 1;
  }
  if (x_range) r.x_lo = x_range->lo, r.x_hi = x_range->hi;
  if (y_range) r.y_lo = y_range->lo, r.y_hi = y_range->hi, r.has_y = true;
  return r;
}

struct LegendEntry {
  std::string label, color;
  bool markers, lines;
  double x, y;  // left end of the swatch, text baseline
};

// Entries flow left to right under the title and wrap; the plot area starts below the last row.
std::vector<LegendEntry> layout_legend(const PlotSpec& spec, double width) {
  std::vector<LegendEntry> legend;
  double x = 72, y = 44;
  for (std::size_t i = 0; i < spec.series.size(); ++i) {
    const auto& series = spec.series[i];
    if (series.label.empty()) continue;
    const double entry_width = 30 + kCharWidth * static_cast<double>(series.label.size()) + 16;
    if (x > 72 && x + entry_width > width - 20) {
      x = 72;
      y += 18;
    }
    legend.push_back({series.label, series_color(series, i), series.markers, series.lines, x, y});
    x += entry_width;
  }
  return legend;
}

std::string line_element(double x1, double y1, double x2, double y2, const std::string& extra) {
  return "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" + px(y2) +
         "\"" + extra + "/>\n";
}

std::string draw_axes(const PlotSpec& spec, const Axis& x, const Axis& y, double height) {
  std::string svg = "<g stroke=\"#e5e5e5\" stroke-width=\"1\">\n";
  for (double t : x.ticks)
    svg += line_element(x.pixel(t), y.from, x.pixel(t), y.to, "");
  for (double t : y.ticks)
    svg += line_element(x.from, y.pixel(t), x.to, y.pixel(t), "");
  svg += "</g>\n<g fill=\"#333333\">\n";
  for (double t : x.ticks)
    svg += text_element(x.pixel(t), y.from + 16, "middle", format_number(t, 6));
  for (double t : y.ticks)
    svg += text_element(x.from - 6, y.pixel(t) + 4, "end", format_number(t, 6));
  svg += text_element((x.from + x.to) / 2, height - 10, "middle", spec.x_label);
  svg += text_element(0, 0, "middle", spec.y_label,
                      " transform=\"translate(16 " + px((y.from + y.to) / 2) + ") rotate(-90)\"");
  svg += "</g>\n<rect x=\"" + px(x.from) + "\" y=\"" + px(y.to) + "\" width=\"" +
         px(x.to - x.from) + "\" height=\"" + px(y.from - y.to) +
         "\" fill=\"none\" stroke=\"#333333\"/>\n";
  return svg;
}

// Where a reference line's label goes along its line: the right end, else (when a label placed
// before it sits at that end within a line's height) the left end, else the middle.
enum class LabelPlace { right, left, middle };

std::string draw_reference(const ReferenceLine& reference, const Axis& x, const Axis& y,
                           LabelPlace place) {
  const std::string color = escape_markup(reference.color);
  const double level = y.pixel(reference.y);
  const double at = place == LabelPlace::right  ? x.to - 6
                    : place == LabelPlace::left ? x.from + 6
                                                : (x.from + x.to) / 2;
  const char* anchor = place == LabelPlace::right  ? "end"
                       : place == LabelPlace::left ? "start"
                                                   : "middle";
  // A white halo keeps the label readable where it crosses a data line.
  return line_element(x.from, level, x.to, level,
                      " stroke=\"" + color + "\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"") +
         text_element(at, level - 5, anchor, reference.label,
                      " fill=\"" + color +
                          "\" font-size=\"11\" stroke=\"white\" stroke-width=\"3\" "
                          "paint-order=\"stroke\"");
}

// Labels stagger down three rows, so that marks close together do not print over each other.
std::string draw_mark(const VerticalMark& mark, std::size_t index, const Axis& x, const Axis& y) {
  const std::string color = escape_markup(mark.color);
  const double at = x.pixel(mark.x);
  const double row = y.to + 14 + 14 * static_cast<double>(index % 3);
  const bool right_half = at > (x.from + x.to) / 2;
  return line_element(at, y.from, at, y.to,
                      " stroke=\"" + color + "\" stroke-width=\"1.2\" stroke-dasharray=\"3 3\"") +
         text_element(at + (right_half ? -4 : 4), row, right_half ? "end" : "start", mark.label,
                      " fill=\"" + color +
                          "\" font-size=\"11\" stroke=\"white\" stroke-width=\"3\" "
                          "paint-order=\"stroke\"");
}

std::string draw_legend(const std::vector<LegendEntry>& legend) {
  std::string svg;
  for (const auto& entry : legend) {
    const double mid = entry.y - 4;
    if (entry.lines)
      svg += line_element(entry.x, mid, entry.x + 24, mid,
                          " stroke=\"" + entry.color + "\" stroke-width=\"2\"");
    if (entry.markers || !entry.lines)
      svg += "<circle cx=\"" + px(entry.x + 12) + "\" cy=\"" + px(mid) + "\" r=\"3\" fill=\"" +
             entry.color + "\"/>\n";
    svg += text_element(entry.x + 30, entry.y, "start", entry.label);
  }
  return svg;
}

}  // namespace

std::string escape_markup(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string format_number(double value, int significant) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (value == 0) return "0";  // also turns -0 into 0
  significant = std::clamp(significant, 1, 17);
  char text[64];
  const double magnitude = std::abs(value);
  const bool fixed = magnitude >= 1e-4 && magnitude < 1e9;
  if (fixed) {
    const int decimals =
        std::max(0, significant - 1 - static_cast<int>(std::floor(std::log10(magnitude))));
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
  } else {
    std::snprintf(text, sizeof text, "%.*e", significant - 1, value);
  }
  std::string out = text, exponent;
  if (const auto e = out.find('e'); e != std::string::npos) {
    // "1.50e-05" -> mantissa "1.50", exponent "-5"
    const int power = std::atoi(out.c_str() + e + 1);
    exponent = "e";
    exponent += std::to_string(power);  // not "e" + ...: GCC 12 warns falsely (-Wrestrict)
    out.resize(e);
  }
  if (out.find('.') != std::string::npos) {
    out.erase(out.find_last_not_of('0') + 1);
    if (out.back() == '.') out.pop_back();
  }
  return out + exponent;
}

std::string svg_line_plot(const PlotSpec& spec) {
  const double width = std::max(spec.width, 240), height = std::max(spec.height, 160);
  const Ranges ranges = data_ranges(spec);
  const std::vector<LegendEntry> legend = layout_legend(spec, width);
  Axis x = linear_axis(ranges.x_lo, ranges.x_hi);
  Axis y = spec.log_y ? log_axis(ranges.y_lo, ranges.y_hi) : linear_axis(ranges.y_lo, ranges.y_hi);
  x.from = 72, x.to = width - 20;
  y.from = height - 48, y.to = legend.empty() ? 40 : legend.back().y + 16;
  x.fixed = valid_range(spec.x_range, false);
  y.fixed = valid_range(spec.y_range, spec.log_y);
  // Made-up ranges get no tick labels, which would pass for values; fixed ones are no guess.
  if (!ranges.has_data && !x.fixed) x.ticks.clear();
  if (!ranges.has_y) y.ticks.clear();

  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + px(width) +
                    "\" height=\"" + px(height) + "\" viewBox=\"0 0 " + px(width) + " " +
                    px(height) + "\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\">\n";
  svg += "<title>" + escape_markup(spec.title) + "</title>\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg +=
      text_element(width / 2, 22, "middle", spec.title, " font-size=\"15\" font-weight=\"bold\"");
  svg += draw_axes(spec, x, y, height);
  // Baselines often lie close together (Markov chains of two orders and a floor): their labels
  // take turns along the line instead of printing over each other.
  std::vector<std::pair<double, LabelPlace>> placed;
  for (const auto& reference : spec.references) {
    if (!usable(0, reference.y, spec.log_y) || !within(y.fixed, reference.y)) continue;
    const double level = y.pixel(reference.y);
    LabelPlace place = LabelPlace::right;
    for (const LabelPlace candidate : {LabelPlace::right, LabelPlace::left, LabelPlace::middle}) {
      place = candidate;
      const bool taken = std::ranges::any_of(placed, [&](const auto& other) {
        return other.second == candidate && std::abs(other.first - level) < 13;
      });
      if (!taken) break;
    }
    placed.emplace_back(level, place);
    svg += draw_reference(reference, x, y, place);
  }
  for (std::size_t i = 0; i < spec.marks.size(); ++i)
    if (const double at = spec.marks[i].x;
        ranges.has_data && std::isfinite(at) && at >= x.lo && at <= x.hi)
      svg += draw_mark(spec.marks[i], i, x, y);
  for (std::size_t i = 0; i < spec.series.size(); ++i)
    svg += draw_series(spec.series[i], series_color(spec.series[i], i), x, y);
  if (!ranges.has_data)
    svg += text_element((x.from + x.to) / 2, (y.from + y.to) / 2, "middle", "no data",
                        " fill=\"#888888\" font-size=\"14\"");
  svg += draw_legend(legend);
  return svg + "</svg>\n";
}

}  // namespace genolm::report
