#pragma once
// The page `genolm mutagenesis` leaves beside its tables: one heatmap per sequence and score,
// letters by positions, each cell the effect of that substitution (red: the model's output or
// likelihood rises, blue: it falls, white: none, a dot: the reference letter). Self-contained
// HTML with inline SVG, like the run reports.

#include <cstddef>
#include <string>
#include <vector>

namespace genolm::report {

struct MutagenesisMap {
  std::string id;
  std::string reference;       // the letters of the region, as in the input
  std::size_t first_position;  // the region's first position, 1-based
  std::string score;           // "llr", "delta_yes", ...
  std::vector<double> values;  // [positions x letters], row-major; NaN: not scored
};

// The whole page. `maps_left_out` counts the maps not drawn (the page stops at a readable size;
// the tables hold them all).
std::string mutagenesis_page(const std::string& model, const std::string& letters,
                             const std::vector<MutagenesisMap>& maps, std::size_t maps_left_out);

}  // namespace genolm::report
