#pragma once
// Builds a token corpus from FASTA/FASTQ files and CSV/TSV tables: read (streaming) -> split into
// train and valid by whole records or contiguous blocks -> tokenize on all cores -> uint16/uint32
// shards + corpus.json (with the Markov chains a language model must beat: markov_baseline.h).
//
// A table (told by its name: io::named_like_table) gives one record per row from its sequence
// column, or a pair from two (joined by <sep>, as fine-tuning joins them; a pair is never cut);
// its other columns (labels) are not read. Rows are not split at N runs.
//
// The valid split takes every block whose turn comes up in an error-diffusion sequence (a running
// sum of valid_fraction per block, seeded), so it holds the asked share of blocks spread evenly
// over every genome, and the same inputs and seed always give the same split. A block is
// `valid_block_bases` of one record; a shorter record is one block, so files of many short records
// split by whole records. Tokens of the two splits never interleave: every change of split, record
// or N-split segment starts a new piece, and each piece begins with <bos>.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "genolm/tokenizers/tokenizer.h"
#include "io/fastx_reader.h"

namespace genolm::data {

struct CorpusOptions {
  std::vector<std::filesystem::path> inputs;
  std::filesystem::path out;
  double valid_fraction = 0.01;
  std::uint64_t valid_block_bases = 10000;
  std::uint64_t seed = 42;
  io::SoftMask soft_mask = io::SoftMask::upper;
  std::size_t n_run_split = 50;
  // Also add the reverse complement of every piece (as a piece of its own): both strands (DNA).
  bool reverse_complement = false;
  // The sequence column of tables, or two for paired chains.
  std::vector<std::string> sequence_columns = {"sequence"};
  int threads = 1;
  std::uint64_t shard_tokens = std::uint64_t{1} << 28;
  std::size_t work_bases = std::size_t{1} << 22;  // bases per tokenizing task
  bool overwrite = false;
};

// Decides, block after block, which blocks go to the valid split.
class SplitAssigner {
 public:
  SplitAssigner(double valid_fraction, std::uint64_t seed);
  bool next_is_valid();

 private:
  double fraction_;
  double carry_;
};

// Builds the corpus folder at options.out (written under a temporary name, renamed when complete)
// and returns its manifest. The tokenizer is saved inside as tokenizer/.
nlohmann::json build_corpus(const tokenizers::Tokenizer& tokenizer, const CorpusOptions& options);

}  // namespace genolm::data
