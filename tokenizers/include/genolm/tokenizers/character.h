#pragma once
// One token per character: single nucleotides (A, C, G, T; anything else is <unk>) or amino acids
// (the 20 standard ones plus X; B, Z, J, U and O read as X, anything else is <unk>). Case is
// ignored.

#include <array>

#include "genolm/tokenizers/tokenizer.h"

namespace genolm::tokenizers {

class CharacterTokenizer final : public Tokenizer {
 public:
  static CharacterTokenizer nucleotide();
  static CharacterTokenizer protein();

  std::string kind() const override { return kind_; }
  SequenceAlphabet alphabet() const override { return alphabet_; }
  double stride_prior() const override;
  std::int32_t vocab_size() const override;
  void encode_into(std::string_view sequence, std::vector<std::int32_t>& out) const override;
  std::string decode(std::span<const std::int32_t> ids) const override;
  std::string id_to_token(std::int32_t id) const override;
  StreamSplit stream_split(std::size_t available) const override { return {available, available}; }
  nlohmann::json parameters() const override;

 private:
  // `symbols` get ids after the specials in order; `aliases` are extra characters that read as
  // the symbol at the same position in `alias_targets`.
  CharacterTokenizer(std::string kind, SequenceAlphabet alphabet, std::string symbols,
                     std::string_view aliases, std::string_view alias_targets);

  std::string kind_;
  SequenceAlphabet alphabet_;
  std::string symbols_;
  std::array<std::int32_t, 256> ids_{};
};

}  // namespace genolm::tokenizers
