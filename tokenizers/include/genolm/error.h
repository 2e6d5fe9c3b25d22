#pragma once
// The project's one error type. It lives in the tokenizer library because that library is the
// bottom of the dependency graph: everything else may throw it, and the CLI catches it at the top,
// prints its message as one line and exits non-zero.

#include <stdexcept>
#include <string>

namespace genolm {

// Messages name what was wrong (file, line or record, key) and what was expected, e.g.
// "genome.fa line 12: unexpected character '3' in record 'chr1' (expected IUPAC nucleotide codes)".
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace genolm
