#pragma once
// Text for one field of the TSV files genolm writes (predictions, ids of embeddings, scores). An id
// read from a CSV may hold a tab or a line break inside quotes; written as is it would shift every
// column after it or split the row. Such characters are escaped the way PostgreSQL's text format
// and many TSV readers expect: \t, \n, \r, and the backslash itself as \\.

#include <charconv>
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

// A model output in a TSV cell (a score, a probability, a predicted value): 7 significant digits,
// about what float32 holds; "nan" for a missing one, "inf" or "-inf".
inline std::string tsv_number(double value) {
  if (std::isnan(value)) return "nan";
  char text[32];
  std::snprintf(text, sizeof text, "%.7g", value);
  return text;
}

// A target read from the user's table (held as float), written back as the shortest text that
// reads as the same float: 0.1 stays 0.1 and 1234567.5 stays 1234567.5, where a fixed number of
// digits would round the one or print the other as 1.23457e+06.
inline std::string input_number(float value) {
  if (std::isnan(value)) return "nan";
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  return std::string(text, end);
}

}  // namespace genolm::io
