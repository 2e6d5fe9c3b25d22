#include "data/lm_stream.h"

#include <algorithm>

#include "genolm/error.h"

namespace genolm::data {

LmStream::LmStream(const TokenSplit& split, std::int64_t rows, bool backward,
                   std::int64_t first_row, std::int64_t row_count)
    : split_(split),
      rows_(rows),
      first_row_(first_row),
      row_count_(row_count < 0 ? rows : row_count),
      backward_(backward),
      length_(rows > 0 ? split.size() / static_cast<std::uint64_t>(rows) : 0) {
  if (rows <= 0 || length_ < 2) {
    throw Error("the corpus split has " + std::to_string(split.size()) + " tokens, too few for " +
                std::to_string(rows) +
                " parallel streams of at least 2 tokens (lower train.batch_size)");
  }
  if (first_row_ < 0 || row_count_ < 1 || first_row_ + row_count_ > rows_) {
    throw Error("internal: rows " + std::to_string(first_row_) + "+" + std::to_string(row_count_) +
                " of " + std::to_string(rows_) + " streams");
  }
}

void LmStream::read(std::uint64_t begin, std::size_t count, std::int32_t* out) const {
  if (!backward_) {
    split_.read(begin, count, out);
    return;
  }
  // Reversed order: token i of the backward text is token (size - 1 - i) of the split.
  const std::uint64_t end = split_.size() - begin;
  split_.read(end - count, count, out);
  std::reverse(out, out + count);
}

void LmStream::fill_row(std::uint64_t begin, std::int64_t row, LmBatch& batch) const {
  scratch_.resize(static_cast<std::size_t>(batch.steps + 1));
  read(begin, scratch_.size(), scratch_.data());
  for (std::int64_t t = 0; t < batch.steps; ++t) {
    batch.inputs[row * batch.steps + t] = scratch_[t];
    batch.targets[row * batch.steps + t] = scratch_[t + 1];
  }
}

bool LmStream::next(std::int64_t steps, LmBatch& batch) {
  if (exhausted()) return false;
  const auto take = static_cast<std::int64_t>(
      std::min<std::uint64_t>(static_cast<std::uint64_t>(steps), length_ - 1 - position_));
  batch.rows = row_count_;
  batch.steps = take;
  batch.inputs.resize(static_cast<std::size_t>(row_count_ * take));
  batch.targets.resize(batch.inputs.size());
  for (std::int64_t row = 0; row < row_count_; ++row) {
    fill_row(static_cast<std::uint64_t>(first_row_ + row) * length_ + position_, row, batch);
  }
  position_ += static_cast<std::uint64_t>(take);
  return true;
}

void LmStream::random_windows(std::int64_t steps, std::mt19937_64& rng, LmBatch& batch) const {
  const std::uint64_t size = split_.size();
  if (size < static_cast<std::uint64_t>(steps) + 1) {
    throw Error("the corpus split has " + std::to_string(size) +
                " tokens, fewer than a window of " + std::to_string(steps + 1));
  }
  std::uniform_int_distribution<std::uint64_t> start(0,
                                                     size - static_cast<std::uint64_t>(steps) - 1);
  batch.rows = row_count_;
  batch.steps = steps;
  batch.inputs.resize(static_cast<std::size_t>(row_count_ * steps));
  batch.targets.resize(batch.inputs.size());
  for (std::int64_t row = 0; row < rows_; ++row) {
    const std::uint64_t begin = start(rng);
    if (row >= first_row_ && row < first_row_ + row_count_)
      fill_row(begin, row - first_row_, batch);
  }
}

std::int64_t random_bptt(std::int64_t bptt, std::mt19937_64& rng) {
  // Fresh distributions each call: they carry no cached draws, so the engine's state alone
  // (saved in checkpoints) decides every future length.
  const double base =
      std::uniform_real_distribution<double>(0.0, 1.0)(rng) < 0.95 ? bptt : bptt / 2.0;
  const double jittered = std::normal_distribution<double>(base, 5.0)(rng);
  return std::max<std::int64_t>(5, static_cast<std::int64_t>(jittered));
}

}  // namespace genolm::data
