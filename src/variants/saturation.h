#pragma once
// Saturation mutagenesis: every single substitution of a sequence, or of a region of it (a CDR, a
// promoter's core), by the letters the model's alphabet allows. Torch-free; the scorers run the
// mutants it lists.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "genolm/tokenizers/tokenizer.h"

namespace genolm::variants {

// The letters substitutions use: A C G T for DNA, the 20 standard amino acids for proteins.
std::string substitution_letters(tokenizers::SequenceAlphabet alphabet);

// Positions [first, end) of a sequence, 0-based; parsed from a 1-based, inclusive "START-END".
struct Region {
  std::size_t first = 0;
  std::size_t end = 0;
  std::size_t size() const { return end - first; }
};
// "" is the whole sequence. Throws genolm::Error for text that is not START-END with
// 1 <= START <= END; a region that runs past the sequence is clipped to it by `clipped`.
struct RegionSpec {
  std::size_t start = 1;  // 1-based, inclusive
  std::size_t stop = 0;   // 0: to the end
};
RegionSpec parse_region(std::string_view text);
// The spec's positions in a sequence of `length` letters; throws genolm::Error naming `record`
// when the region starts past its end.
Region clipped(const RegionSpec& spec, std::size_t length, const std::string& record);

// Whether `letter` of `letters` is the sequence's own letter `base` there: compared without case,
// and in DNA (letters A C G T) U is T.
bool is_reference_letter(char base, char letter, std::string_view letters);

// One cell of the [positions x letters] grid: the substitution of `letter` at `position`.
struct Substitution {
  std::size_t position = 0;  // 0-based, in the sequence
  std::size_t letter = 0;    // index into the letters
  char reference = 0;        // the sequence's letter there, upper-cased
};

// The cells of `region` whose letter differs from the sequence's (compared without case), in
// position-major order.
std::vector<Substitution> single_substitutions(std::string_view sequence, const Region& region,
                                               std::string_view letters);

// `sequence` with one substitution applied.
std::string mutated(std::string_view sequence, const Substitution& substitution,
                    std::string_view letters);

}  // namespace genolm::variants
