#include "data/tokenizer_factory.h"

#include <optional>

#include "genolm/error.h"
#include "genolm/tokenizers/character.h"
#include "genolm/tokenizers/kmer.h"
#include "genolm/tokenizers/sentencepiece.h"
#include "util/log.h"

namespace genolm::data {
namespace {

// Streams FASTA records as SentencePiece sentences: pieces of piece_bases from the start of each
// segment (as encoding cuts them), the last piece of a segment shorter.
class PieceStream {
 public:
  PieceStream(const std::vector<std::filesystem::path>& files, io::FastxOptions options,
              std::size_t piece_bases)
      : files_(files), options_(options), piece_bases_(piece_bases) {}

  bool next(std::string& sentence) {
    while (true) {
      if (pending_.size() >= piece_bases_ || (segment_done_ && !pending_.empty())) {
        const std::size_t take = std::min(piece_bases_, pending_.size());
        sentence.assign(pending_, 0, take);
        pending_.erase(0, take);
        return true;
      }
      segment_done_ = false;
      if (!reader_ || !reader_->next(chunk_)) {
        if (next_file_ == files_.size()) return false;
        reader_.emplace(files_[next_file_++], options_);
        continue;
      }
      pending_ += chunk_.bases;
      segment_done_ = chunk_.segment_end;
    }
  }

 private:
  const std::vector<std::filesystem::path>& files_;
  io::FastxOptions options_;
  std::size_t piece_bases_;
  std::size_t next_file_ = 0;
  std::optional<io::FastxReader> reader_;
  io::SequenceChunk chunk_;
  std::string pending_;
  bool segment_done_ = false;
};

}  // namespace

std::unique_ptr<tokenizers::Tokenizer> make_tokenizer(
    const TokenizerSpec& spec, const std::vector<std::filesystem::path>& training_files) {
  if (spec.kind == "kmer") return std::make_unique<tokenizers::KmerTokenizer>(spec.k, spec.stride);
  if (spec.kind == "nucleotide") {
    return std::make_unique<tokenizers::CharacterTokenizer>(
        tokenizers::CharacterTokenizer::nucleotide());
  }
  if (spec.kind == "protein") {
    return std::make_unique<tokenizers::CharacterTokenizer>(
        tokenizers::CharacterTokenizer::protein());
  }
  if (spec.kind != "bpe" && spec.kind != "unigram") {
    throw Error("unknown tokenizer kind '" + spec.kind +
                "' (expected kmer, nucleotide, protein, bpe or unigram)");
  }
  if (training_files.empty()) {
    throw Error("a " + spec.kind +
                " tokenizer learns from FASTA files: give them with --input "
                "(or data.train in the recipe)");
  }
  tokenizers::SentencePieceOptions options;
  options.kind = spec.kind;
  options.vocab_size = spec.vocab_size;
  options.piece_bases = spec.piece_bases;
  options.max_train_pieces =
      std::max<std::uint64_t>(1, spec.train_bases / std::max<std::size_t>(1, spec.piece_bases));
  options.threads = spec.threads;
  options.seed = spec.seed;

  PieceStream stream(
      training_files,
      {.alphabet = io::Alphabet::dna, .soft_mask = spec.soft_mask, .n_run_split = spec.n_run_split},
      spec.piece_bases);
  tokenizers::SentencePieceTrainStats stats;
  auto tokenizer = tokenizers::SentencePieceTokenizer::train(
      options, [&stream](std::string& sentence) { return stream.next(sentence); }, &stats);
  log("tokenizer")
      ->info("trained {} with vocab {} on a sample of at most {} of {} pieces ({} bases offered)",
             spec.kind, tokenizer->vocab_size(), options.max_train_pieces, stats.sentences,
             stats.bases);
  return tokenizer;
}

}  // namespace genolm::data
