#pragma once
// SentencePiece BPE and unigram tokenizers trained on DNA.
//
// SentencePiece is reached only through libgenolm_spm.so, a small bridge with a C interface loaded
// with dlopen(RTLD_LOCAL | RTLD_DEEPBIND): Debian's libsentencepiece carries its own protobuf,
// which clashes with LibTorch's in one process (see docs/platform-notes.md).
//
// Sequences are cut into pieces of `piece_bases` from the start of each record, both when training
// and when encoding, so every piece stays below SentencePiece's sentence limit and a streamed
// genome encodes exactly as the same sequence in one call.

#include <functional>
#include <memory>

#include "genolm/tokenizers/tokenizer.h"

namespace genolm::tokenizers {

namespace detail {
class SpmModel;  // the loaded bridge model
}

struct SentencePieceOptions {
  std::string kind = "bpe";              // "bpe" or "unigram"
  int vocab_size = 4096;                 // including the specials
  std::size_t piece_bases = 2048;        // sentence length used for training and encoding
  std::size_t max_train_pieces = 20000;  // SentencePiece samples this many pieces at most
  int threads = 1;
  std::uint64_t seed = 42;
};

// Called repeatedly; stores the next training sentence (at most piece_bases characters) and
// returns true, or returns false when there are no more.
using SentenceSource = std::function<bool(std::string& sentence)>;

// What training was offered; SentencePiece samples at most max_train_pieces of these.
struct SentencePieceTrainStats {
  std::uint64_t sentences = 0;
  std::uint64_t bases = 0;
};

class SentencePieceTokenizer final : public Tokenizer {
 public:
  // Loads `model_file` (a SentencePiece model trained with genolm's special ids).
  SentencePieceTokenizer(std::string kind, const std::filesystem::path& model_file,
                         std::size_t piece_bases);
  ~SentencePieceTokenizer() override;

  static std::unique_ptr<SentencePieceTokenizer> train(const SentencePieceOptions& options,
                                                       const SentenceSource& sentences,
                                                       SentencePieceTrainStats* stats = nullptr);

  std::size_t piece_bases() const { return piece_bases_; }

  std::string kind() const override { return kind_; }
  // genolm trains SentencePiece on genomes only (FASTA read as DNA).
  SequenceAlphabet alphabet() const override { return SequenceAlphabet::dna; }
  std::int32_t vocab_size() const override;
  void encode_into(std::string_view sequence, std::vector<std::int32_t>& out) const override;
  std::string decode(std::span<const std::int32_t> ids) const override;
  std::string id_to_token(std::int32_t id) const override;
  StreamSplit stream_split(std::size_t available) const override;
  nlohmann::json parameters() const override;

  static constexpr std::string_view kModelFileName = "sentencepiece.model";

 protected:
  void save_files(const std::filesystem::path& dir) const override;

 private:
  std::string kind_;
  std::size_t piece_bases_;
  std::string model_bytes_;  // kept so save() can write the model anywhere
  std::unique_ptr<detail::SpmModel> model_;
};

// Where the bridge library was found, for diagnostics; throws genolm::Error if it cannot load.
std::string sentencepiece_bridge_path();

}  // namespace genolm::tokenizers
