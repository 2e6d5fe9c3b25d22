#pragma once
// Text for one field of the TSV files genolm writes (predictions, ids of embeddings, scores). An id
// read from a CSV may hold a tab or a line break inside quotes; written as is it would shift every
// column after it or split the row. Such characters are escaped the way PostgreSQL's text format
// and many TSV readers expect: \t, \n, \r, and the backslash itself as \\.

#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>

namespace genolm::io {

inline std::string tsv_field(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A score in a TSV cell: 7 significant digits, "nan" for a missing one, "inf" or "-inf".
inline std::string tsv_number(double value) {
  if (std::isnan(value)) return "nan";
  char text[32];
  std::snprintf(text, sizeof text, "%.7g", value);
  return text;
}

}  // namespace genolm::io
