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
  // `backward` reads the split from its end to its start (a backward language model).
  LmStream(const TokenSplit& split, std::int64_t rows, bool backward);

  std::uint64_t stream_length() const { return length_; }
  std::uint64_t position() const { return position_; }
  void set_position(std::uint64_t position) { position_ = position; }
  bool exhausted() const { return position_ + 1 >= length_; }

  // The next `steps` tokens of every stream (fewer at the end); false when the pass is over.
  bool next(std::int64_t steps, LmBatch& batch);
  // Random windows of `steps` tokens anywhere in the split (not advancing the stream).
  void random_windows(std::int64_t steps, std::mt19937_64& rng, LmBatch& batch) const;

 private:
  void read(std::uint64_t begin, std::size_t count, std::int32_t* out) const;
  // Row `row` of `batch` (whose steps are set) from the tokens starting at `begin`.
  void fill_row(std::uint64_t begin, std::int64_t row, LmBatch& batch) const;

  const TokenSplit& split_;
  std::int64_t rows_;
  bool backward_;
  std::uint64_t length_;
  std::uint64_t position_ = 0;
  mutable std::vector<std::int32_t> scratch_;
};

// fastai's randomised BPTT: bptt with probability 0.95, else bptt/2, then jittered by a normal of
// standard deviation 5, and never below 5. Varying the length moves where batches cut the text.
std::int64_t random_bptt(std::int64_t bptt, std::mt19937_64& rng);

}  // namespace genolm::data
