#pragma once
// Text for one field of the TSV files genolm writes (predictions, ids of embeddings). An id read
// from a CSV may hold a tab or a line break inside quotes; written as is it would shift every
// column after it or split the row. Such characters are escaped the way PostgreSQL's text format
// and many TSV readers expect: \t, \n, \r, and the backslash itself as \\.

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

}  // namespace genolm::io
