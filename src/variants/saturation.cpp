#include "variants/saturation.h"

#include <cctype>
#include <charconv>

#include "genolm/error.h"

namespace genolm::variants {
namespace {

std::size_t parse_position(std::string_view text, std::string_view whole) {
  std::size_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value == 0) {
    throw Error("--region '" + std::string(whole) +
                "': expected START-END, 1-based and inclusive (e.g. 95-102)");
  }
  return value;
}

}  // namespace

std::string substitution_letters(tokenizers::SequenceAlphabet alphabet) {
  return alphabet == tokenizers::SequenceAlphabet::dna ? "ACGT" : "ACDEFGHIKLMNPQRSTVWY";
}

RegionSpec parse_region(std::string_view text) {
  if (text.empty()) return {};
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) {
    throw Error("--region '" + std::string(text) +
                "': expected START-END, 1-based and inclusive (e.g. 95-102)");
  }
  const RegionSpec spec{parse_position(text.substr(0, dash), text),
                        parse_position(text.substr(dash + 1), text)};
  if (spec.stop < spec.start) {
    throw Error("--region '" + std::string(text) + "': END comes before START");
  }
  return spec;
}

Region clipped(const RegionSpec& spec, std::size_t length, const std::string& record) {
  if (spec.start > length) {
    throw Error("record '" + record + "' has " + std::to_string(length) +
                " letters: --region starts at " + std::to_string(spec.start));
  }
  const std::size_t stop = spec.stop == 0 ? length : std::min(spec.stop, length);
  return {spec.start - 1, stop};
}

bool is_reference_letter(char base, char letter, std::string_view letters) {
  const char upper = static_cast<char>(std::toupper(static_cast<unsigned char>(base)));
  return letter == upper || (upper == 'U' && letter == 'T' && letters == "ACGT");
}

std::vector<Substitution> single_substitutions(std::string_view sequence, const Region& region,
                                               std::string_view letters) {
  std::vector<Substitution> cells;
  for (std::size_t position = region.first; position < region.end; ++position) {
    const char base = sequence[position];
    const char reference = static_cast<char>(std::toupper(static_cast<unsigned char>(base)));
    for (std::size_t letter = 0; letter < letters.size(); ++letter)
      if (!is_reference_letter(base, letters[letter], letters))
        cells.push_back({position, letter, reference});
  }
  return cells;
}

std::string mutated(std::string_view sequence, const Substitution& substitution,
                    std::string_view letters) {
  std::string result(sequence);
  result[substitution.position] = letters[substitution.letter];
  return result;
}

}  // namespace genolm::variants
