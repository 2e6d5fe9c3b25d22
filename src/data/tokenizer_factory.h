#pragma once
// Makes the tokenizer a recipe asks for: loads tokenizer.path when set, otherwise builds the kind
// from tokenizer.* keys, training SentencePiece on the recipe's FASTA files where the kind needs
// it.

#include <filesystem>
#include <memory>
#include <vector>

#include "genolm/tokenizers/tokenizer.h"
#include "io/fastx_reader.h"

namespace genolm::data {

struct TokenizerSpec {
  std::string kind = "kmer";
  int k = 3;
  int stride = 1;
  int vocab_size = 4096;
  std::size_t piece_bases = 2048;
  std::uint64_t train_bases = 8'000'000;
  int threads = 1;
  std::uint64_t seed = 42;
  io::SoftMask soft_mask = io::SoftMask::upper;
  std::size_t n_run_split = 50;
};

// The alphabet FASTA/FASTQ input to `tokenizer` is checked against.
inline io::Alphabet fastx_alphabet(const tokenizers::Tokenizer& tokenizer) {
  return tokenizer.alphabet() == tokenizers::SequenceAlphabet::protein ? io::Alphabet::protein
                                                                       : io::Alphabet::dna;
}

// Throws genolm::Error when a SentencePiece kind has no training files.
std::unique_ptr<tokenizers::Tokenizer> make_tokenizer(
    const TokenizerSpec& spec, const std::vector<std::filesystem::path>& training_files);

}  // namespace genolm::data
