#include "genolm/tokenizers/character.h"

#include <cctype>
#include <cmath>

#include "genolm/error.h"
#include "genolm/tokenizers/alphabet.h"

namespace genolm::tokenizers {

CharacterTokenizer::CharacterTokenizer(std::string kind, SequenceAlphabet alphabet,
                                       std::string symbols, std::string_view aliases,
                                       std::string_view alias_targets)
    : kind_(std::move(kind)), alphabet_(alphabet), symbols_(std::move(symbols)) {
  ids_.fill(SpecialIds::unk);
  auto assign = [this](char c, std::int32_t id) {
    ids_[static_cast<unsigned char>(std::toupper(static_cast<unsigned char>(c)))] = id;
    ids_[static_cast<unsigned char>(std::tolower(static_cast<unsigned char>(c)))] = id;
  };
  for (std::size_t i = 0; i < symbols_.size(); ++i) {
    assign(symbols_[i], SpecialIds::count + static_cast<std::int32_t>(i));
  }
  for (std::size_t i = 0; i < aliases.size(); ++i) {
    assign(aliases[i], ids_[static_cast<unsigned char>(alias_targets[i])]);
  }
}

CharacterTokenizer CharacterTokenizer::nucleotide() {
  return CharacterTokenizer("nucleotide", SequenceAlphabet::dna, std::string(kBases), "U", "T");
}

CharacterTokenizer CharacterTokenizer::protein() {
  // B (D/N), Z (E/Q) and J (I/L) are ambiguous; U (selenocysteine) and O (pyrrolysine) are rare
  // enough that a 21-letter vocabulary reads them as X, as most protein language models do.
  return CharacterTokenizer("protein", SequenceAlphabet::protein, std::string(kAminoAcids) + "X",
                            "BZJUO", "XXXXX");
}

double CharacterTokenizer::stride_prior() const {
  return alphabet_ == SequenceAlphabet::dna ? std::log(4.0) : Tokenizer::stride_prior();
}

std::int32_t CharacterTokenizer::vocab_size() const {
  return SpecialIds::count + static_cast<std::int32_t>(symbols_.size());
}

void CharacterTokenizer::encode_into(std::string_view sequence,
                                     std::vector<std::int32_t>& out) const {
  const std::size_t start = out.size();
  out.resize(start + sequence.size());
  for (std::size_t i = 0; i < sequence.size(); ++i) {
    out[start + i] = ids_[static_cast<unsigned char>(sequence[i])];
  }
}

std::string CharacterTokenizer::id_to_token(std::int32_t id) const {
  if (is_special(id)) return std::string(kSpecialNames[id]);
  if (id < 0 || id >= vocab_size()) {
    throw Error("token id " + std::to_string(id) + " is outside the " + kind_ + " vocabulary of " +
                std::to_string(vocab_size()));
  }
  return std::string(1, symbols_[id - SpecialIds::count]);
}

std::string CharacterTokenizer::decode(std::span<const std::int32_t> ids) const {
  std::string out;
  out.reserve(ids.size());
  const char unknown = alphabet_ == SequenceAlphabet::protein ? 'X' : 'N';
  for (const std::int32_t id : ids) {
    if (id == SpecialIds::pad) continue;
    if (id == SpecialIds::unk) {
      out += unknown;
    } else {
      out += id_to_token(id);
    }
  }
  return out;
}

nlohmann::json CharacterTokenizer::parameters() const {
  return {{"symbols", symbols_}};
}

}  // namespace genolm::tokenizers
