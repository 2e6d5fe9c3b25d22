#include "genolm/tokenizers/alphabet.h"

namespace genolm::tokenizers {
namespace {

struct ComplementTable {
  std::array<char, 256> to{};
  constexpr ComplementTable() {
    for (int c = 0; c < 256; ++c)
      to[c] = static_cast<char>(c);
    constexpr std::string_view from = "ACGTURYKMBVDHSWN";
    constexpr std::string_view onto = "TGCAAYRMKVBHDSWN";
    for (std::size_t i = 0; i < from.size(); ++i) {
      const auto upper = static_cast<unsigned char>(from[i]);
      to[upper] = onto[i];
      to[upper + ('a' - 'A')] = static_cast<char>(onto[i] + ('a' - 'A'));
    }
  }
};
constexpr ComplementTable kComplement{};

}  // namespace

std::string reverse_complement(std::string_view sequence) {
  std::string out(sequence.size(), '\0');
  const std::size_t n = sequence.size();
  for (std::size_t i = 0; i < n; ++i) {
    out[n - 1 - i] = kComplement.to[static_cast<unsigned char>(sequence[i])];
  }
  return out;
}

}  // namespace genolm::tokenizers
