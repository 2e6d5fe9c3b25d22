#include "variants/protein_mutants.h"

#include <cctype>
#include <charconv>
#include <set>

#include "genolm/error.h"

namespace genolm::variants {
namespace {

bool is_residue(char c) {
  return std::isupper(static_cast<unsigned char>(c)) != 0 || c == '*';
}

}  // namespace

std::vector<ResidueChange> parse_mutant(std::string_view text, std::string_view wild_type,
                                        long first_position) {
  const auto fail = [&](const std::string& why) {
    throw Error("mutant '" + std::string(text) + "': " + why);
  };
  std::vector<ResidueChange> changes;
  std::set<std::size_t> seen;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t colon = std::min(text.find(':', start), text.size());
    const std::string_view change = text.substr(start, colon - start);
    start = colon + 1;
    long position = 0;
    const char* digits_end = change.data() + change.size() - 1;
    const auto parsed = change.size() >= 3
                            ? std::from_chars(change.data() + 1, digits_end, position)
                            : std::from_chars_result{change.data(), std::errc::invalid_argument};
    if (change.size() < 3 || !is_residue(change.front()) || !is_residue(change.back()) ||
        parsed.ec != std::errc() || parsed.ptr != digits_end) {
      fail(
          "expected changes such as H24C (wild-type letter, position, mutant letter), joined by "
          "':', not '" +
          std::string(change) + "'");
    }
    const long index = position - first_position;
    if (index < 0 || index >= static_cast<long>(wild_type.size())) {
      fail("position " + std::to_string(position) + " is outside the wild type (positions " +
           std::to_string(first_position) + " to " +
           std::to_string(first_position + static_cast<long>(wild_type.size()) - 1) + ")");
    }
    const auto at = static_cast<std::size_t>(index);
    const char actual = static_cast<char>(std::toupper(static_cast<unsigned char>(wild_type[at])));
    if (actual != change.front()) {
      fail("the wild type has " + std::string(1, actual) + " at " + std::to_string(position) +
           ", not " + std::string(1, change.front()) + " (is the numbering's first position " +
           std::to_string(first_position) + " right?)");
    }
    if (!seen.insert(at).second) fail("position " + std::to_string(position) + " changes twice");
    changes.push_back({at, change.front(), change.back()});
    if (colon == text.size()) break;
  }
  return changes;
}

std::string apply_changes(std::string wild_type, const std::vector<ResidueChange>& changes) {
  for (const auto& change : changes)
    wild_type[change.index] = change.mutant;
  return wild_type;
}

}  // namespace genolm::variants
