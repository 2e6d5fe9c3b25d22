#pragma once
// Character facts for DNA and protein: base codes for k-mer arithmetic, IUPAC validity and the
// reverse complement.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace genolm::tokenizers {

// 2-bit code of a base (A=0, C=1, G=2, T/U=3, either case), or -1 for anything else (N, IUPAC
// ambiguity codes, gaps). Used by the k-mer and nucleotide tokenizers.
struct BaseCodes {
  std::array<std::int8_t, 256> code{};
  constexpr BaseCodes() {
    for (auto& c : code)
      c = -1;
    code['A'] = code['a'] = 0;
    code['C'] = code['c'] = 1;
    code['G'] = code['g'] = 2;
    code['T'] = code['t'] = 3;
    code['U'] = code['u'] = 3;
  }
};
inline constexpr BaseCodes kBaseCodes{};

inline constexpr std::string_view kBases = "ACGT";

// The 20 standard amino acids in alphabetical order of their one-letter codes; X follows them in
// the protein vocabulary.
inline constexpr std::string_view kAminoAcids = "ACDEFGHIKLMNPQRSTVWY";

// Reverse complement of a DNA sequence. IUPAC codes map to their complements (R<->Y, K<->M,
// B<->V, D<->H; S, W and N to themselves), U reads as T, case is kept so soft-masking survives,
// and anything that is not a nucleotide code stays as it is.
std::string reverse_complement(std::string_view sequence);

}  // namespace genolm::tokenizers
