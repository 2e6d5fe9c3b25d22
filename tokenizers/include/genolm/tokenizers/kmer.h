#pragma once
// Overlapping or tiled k-mers, the tokenization of Genomic-ULMFiT: windows of k bases starting
// every `stride` bases; the vocabulary is every one of the 4^k k-mers (lexicographic in ACGT)
// after the specials. A window that holds anything but A, C, G, T/U (either case) becomes <unk>.
// A tail shorter than a window produces no token.

#include "genolm/tokenizers/tokenizer.h"

namespace genolm::tokenizers {

class KmerTokenizer final : public Tokenizer {
 public:
  static constexpr int kMaxK = 8;

  // Throws genolm::Error unless 1 <= k <= 8 and 1 <= stride <= k.
  KmerTokenizer(int k, int stride);

  int k() const { return k_; }
  int stride() const { return stride_; }

  std::string kind() const override { return "kmer"; }
  SequenceAlphabet alphabet() const override { return SequenceAlphabet::dna; }
  double stride_prior() const override;
  std::int32_t vocab_size() const override;
  void encode_into(std::string_view sequence, std::vector<std::int32_t>& out) const override;
  std::string decode(std::span<const std::int32_t> ids) const override;
  std::string id_to_token(std::int32_t id) const override;
  StreamSplit stream_split(std::size_t available) const override;
  nlohmann::json parameters() const override;

 private:
  int k_;
  int stride_;
};

}  // namespace genolm::tokenizers
