#include "report/mutagenesis_page.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "report/report_parts.h"
#include "report/svg_plot.h"
#include "variants/saturation.h"

namespace genolm::report {
namespace {

constexpr int kCell = 12;       // pixels per cell
constexpr int kLeft = 22;       // room for the letters
constexpr int kTop = 30;        // room for the reference letters and position ticks
constexpr int kTickEvery = 10;  // a position label every this many positions

// White at 0, towards red (positive) or blue (negative) in proportion to |value| / scale.
std::string colour(double value, double scale) {
  if (!std::isfinite(value)) return "#cccccc";
  const double share = scale > 0 ? std::min(1.0, std::abs(value) / scale) : 0.0;
  const int fade = static_cast<int>(std::lround(255 * (1 - share)));
  char text[8];
  if (value >= 0)
    std::snprintf(text, sizeof text, "#ff%02x%02x", fade, fade);
  else
    std::snprintf(text, sizeof text, "#%02x%02xff", fade, fade);
  return text;
}

std::string heatmap(const MutagenesisMap& map, const std::string& letters) {
  const std::size_t positions = map.reference.size(), rows = letters.size();
  double scale = 0;
  for (const double value : map.values)
    if (std::isfinite(value)) scale = std::max(scale, std::abs(value));
  const int width = kLeft + static_cast<int>(positions) * kCell + 10;
  const int height = kTop + static_cast<int>(rows) * kCell + 24;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) +
                    "\" height=\"" + std::to_string(height) +
                    "\" font-family=\"sans-serif\" font-size=\"9\">\n";
  for (std::size_t r = 0; r < rows; ++r) {
    const int y = kTop + static_cast<int>(r) * kCell;
    svg += "<text x=\"4\" y=\"" + std::to_string(y + 9) + "\">" + letters[r] + "</text>\n";
  }
  for (std::size_t p = 0; p < positions; ++p) {
    const int x = kLeft + static_cast<int>(p) * kCell;
    const std::size_t position = map.first_position + p;
    svg += "<text x=\"" + std::to_string(x + 2) + "\" y=\"" + std::to_string(kTop - 4) + "\">" +
           escape_markup(std::string(1, map.reference[p])) + "</text>\n";
    if (position % kTickEvery == 0) {
      svg += "<text x=\"" + std::to_string(x) + "\" y=\"10\">" + std::to_string(position) +
             "</text>\n";
    }
    const char reference =
        static_cast<char>(std::toupper(static_cast<unsigned char>(map.reference[p])));
    for (std::size_t r = 0; r < rows; ++r) {
      const double value = map.values[p * rows + r];
      const int y = kTop + static_cast<int>(r) * kCell;
      svg += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(y) + "\" width=\"" +
             std::to_string(kCell) + "\" height=\"" + std::to_string(kCell) + "\" fill=\"" +
             colour(value, scale) + "\"><title>" + std::to_string(position) + " " + reference +
             "&gt;" + letters[r] + ": " + format_number(value) + "</title></rect>\n";
      if (variants::is_reference_letter(map.reference[p], letters[r], letters)) {
        svg += "<circle cx=\"" + std::to_string(x + kCell / 2) + "\" cy=\"" +
               std::to_string(y + kCell / 2) + "\" r=\"2\" fill=\"#333333\"/>\n";
      }
    }
  }
  svg += "<text x=\"" + std::to_string(kLeft) + "\" y=\"" + std::to_string(height - 6) +
         "\">colour scale: \u00b1" + format_number(scale) +
         " (red: higher than the reference, blue: lower)</text>\n</svg>\n";
  return svg;
}

}  // namespace

std::string mutagenesis_page(const std::string& model, const std::string& letters,
                             const std::vector<MutagenesisMap>& maps, std::size_t maps_left_out) {
  std::string html = page_start("in-silico mutagenesis");
  html += "<p>Model: " + escape_markup(model) +
          ". Each cell is one substitution's score (hover for the value); the dots mark the "
          "reference letters, whose score is 0 by definition. Every value is in "
          "<code>mutations.tsv</code> and the <code>.npy</code> files.</p>\n";
  for (const auto& map : maps) {
    html += "<h2>" + escape_markup(map.id) + ": " + escape_markup(map.score) + ", positions " +
            std::to_string(map.first_position) + "-" +
            std::to_string(map.first_position + map.reference.size() - 1) + "</h2>\n" +
            "<div style=\"overflow-x: auto\">\n" + heatmap(map, letters) + "</div>\n";
  }
  if (maps_left_out > 0) {
    html += "<p>" + std::to_string(maps_left_out) +
            " more heatmaps are not drawn here, to keep the page readable; their values are in "
            "the tables.</p>\n";
  }
  html += "</body>\n</html>\n";
  return html;
}

}  // namespace genolm::report
