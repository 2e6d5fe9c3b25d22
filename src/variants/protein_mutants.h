#pragma once
// Protein mutants in deep mutational scanning's notation: "H24C" (wild-type residue, position,
// mutant residue), multi-mutants joined by ':' ("H24C:A30G"), positions numbered from
// `first_position` at the wild type's first residue (BLAT_ECOLX's wild type starts at 24).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace genolm::variants {

struct ResidueChange {
  std::size_t index = 0;  // 0-based, in the wild-type sequence
  char wild_type = 0;
  char mutant = 0;
};

// Parses and checks `text` against `wild_type`. Throws genolm::Error naming the mutant for a
// malformed change, a position outside the sequence, a wild-type letter that is not the
// sequence's there, or a position changed twice.
std::vector<ResidueChange> parse_mutant(std::string_view text, std::string_view wild_type,
                                        long first_position);

// The wild type with the changes applied.
std::string apply_changes(std::string wild_type, const std::vector<ResidueChange>& changes);

}  // namespace genolm::variants
