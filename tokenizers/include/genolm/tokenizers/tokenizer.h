#pragma once
// The one tokenizer interface. Every kind (k-mer, nucleotide, protein, SentencePiece BPE and
// unigram) turns a sequence into int32 ids whose first SpecialIds::count ids are the specials,
// saves itself as a folder with a JSON manifest, and loads back by folder.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "genolm/tokenizers/specials.h"

namespace genolm::tokenizers {

// The largest vocabulary genolm makes or reads (specials included): a recipe's
// tokenizer.vocab_size stops here, 8-mers need 65,543. Counts read from files are checked
// against it before they size an embedding.
inline constexpr std::int64_t kMaxVocabularySize = std::int64_t{1} << 20;

inline constexpr int kManifestFormatVersion = 1;
inline constexpr std::string_view kManifestFileName = "tokenizer.json";

// How to cut a long sequence into pieces that encode independently, so that a genome streams
// through a bounded buffer and several threads can encode its pieces at once. Both numbers depend
// only on the buffer length, never on its content.
struct StreamSplit {
  std::size_t encode_bases;  // encode buffer[0, encode_bases) now...
  std::size_t next_start;    // ...and start the next buffer at buffer[next_start]
};

// The letters a tokenizer reads: nucleotides (DNA or RNA) or amino acids.
enum class SequenceAlphabet { dna, protein };

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // "kmer", "nucleotide", "protein", "bpe" or "unigram": the manifest's name for the kind. Code
  // asks the traits below instead of testing it.
  virtual std::string kind() const = 0;
  virtual std::int32_t vocab_size() const = 0;

  virtual SequenceAlphabet alphabet() const = 0;
  // Whether the other strand is the same molecule, so reverse-complement augmentation and strand
  // averaging apply (DNA).
  bool reverse_complement_applies() const { return alphabet() == SequenceAlphabet::dna; }
  // The loss of a uniform guess at what one token adds to the sequence, ln(4^stride) for k-mers
  // and ln 4 for nucleotides: the loss a language model must beat. NaN where no such prior is
  // known (SentencePiece pieces have variable length; amino acids are far from uniform).
  virtual double stride_prior() const;

  // Appends the ids of `sequence` to `out`. Never adds bos/eos: framing is the caller's choice.
  virtual void encode_into(std::string_view sequence, std::vector<std::int32_t>& out) const = 0;
  std::vector<std::int32_t> encode(std::string_view sequence) const;
  // Two chains (antibody heavy and light, or any pair) joined by the separator token.
  std::vector<std::int32_t> encode_pair(std::string_view first, std::string_view second) const;

  // Inverse of encode where the tokenizer allows it; specials print as their names ("<sep>").
  virtual std::string decode(std::span<const std::int32_t> ids) const = 0;
  virtual std::string id_to_token(std::int32_t id) const = 0;

  // Given `available` buffered bases of a sequence that continues, which prefix can be encoded now
  // with the same result as encoding the whole sequence, and where the next buffer must start.
  virtual StreamSplit stream_split(std::size_t available) const = 0;

  // Kind-specific parameters as written into the manifest ("k", "stride", ...).
  virtual nlohmann::json parameters() const = 0;

  // Writes the folder: tokenizer.json (format, version, kind, parameters, vocab size, specials)
  // plus whatever files the kind needs. The folder is created if missing.
  void save(const std::filesystem::path& dir) const;

 protected:
  // Extra files of a kind (SentencePiece's model); called by save() before the manifest is
  // written, so a folder with a manifest is always complete.
  virtual void save_files(const std::filesystem::path& /*dir*/) const {}
};

// Reads the manifest in `dir` and returns the tokenizer it describes. Errors name the folder and
// what was expected (missing manifest, another format version, unknown kind, bad parameters).
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& dir);

// As load_tokenizer, but the folder must hold a tokenizer of `expected_kind`.
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& dir,
                                          std::string_view expected_kind);

// The manifest alone, validated (format name and version), for callers that record it elsewhere.
nlohmann::json read_tokenizer_manifest(const std::filesystem::path& dir);

}  // namespace genolm::tokenizers
