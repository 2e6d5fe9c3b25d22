#pragma once
// Language-model batches from a token split, the way fastai's LM loader makes them: the split is
// cut into `rows` contiguous streams of equal length, row b reads stream b, and each batch
// continues where the last ended, so a stateful RNN sees every stream as one long text. Windows for
// the transformer come the same way (sequential) or from random offsets.

#include <cstdint>
#include <random>
#include <vector>

#include "data/token_corpus.h"

namespace genolm::data {

struct LmBatch {
  std::int64_t rows = 0;
  std::int64_t steps = 0;
  std::vector<std::int64_t> inputs;   // [rows * steps], row-major
  std::vector<std::int64_t> targets;  // the next token of each input
};

class LmStream {
 public:
  // `backward` reads the split from its end to its start (a backward language model). In data
  // parallel training each rank reads `row_count` of the `rows` global streams from `first_row`:
  // the global batch is the single-process batch, split by rows, never by time (a stream cut
  // across ranks would break the carried hidden state: fastai bug #1933). -1: every row.
  LmStream(const TokenSplit& split, std::int64_t rows, bool backward, std::int64_t first_row = 0,
           std::int64_t row_count = -1);

  std::uint64_t stream_length() const { return length_; }
  std::uint64_t position() const { return position_; }
  void set_position(std::uint64_t position) { position_ = position; }
  bool exhausted() const { return position_ + 1 >= length_; }

  // The next `steps` tokens of every stream (fewer at the end); false when the pass is over.
  bool next(std::int64_t steps, LmBatch& batch);
  // Random windows of `steps` tokens anywhere in the split (not advancing the stream). Every
  // global row draws its start from `rng`, so ranks sharing one seed stay in step.
  void random_windows(std::int64_t steps, std::mt19937_64& rng, LmBatch& batch) const;

 private:
  void read(std::uint64_t begin, std::size_t count, std::int32_t* out) const;
  // Row `row` of `batch` (whose steps are set) from the tokens starting at `begin`.
  void fill_row(std::uint64_t begin, std::int64_t row, LmBatch& batch) const;

  const TokenSplit& split_;
  std::int64_t rows_;       // global streams
  std::int64_t first_row_;  // this reader's first stream...
  std::int64_t row_count_;  // ...and how many it reads
  bool backward_;
  std::uint64_t length_;
  std::uint64_t position_ = 0;
  mutable std::vector<std::int32_t> scratch_;
};

// fastai's randomised BPTT: bptt with probability 0.95, else bptt/2, then jittered by a normal of
// standard deviation 5, and never below 5. Varying the length moves where batches cut the text.
std::int64_t random_bptt(std::int64_t bptt, std::mt19937_64& rng);

}  // namespace genolm::data
