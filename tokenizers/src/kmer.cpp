#include "genolm/tokenizers/kmer.h"

#include <cmath>

#include "genolm/error.h"
#include "genolm/tokenizers/alphabet.h"

namespace genolm::tokenizers {

KmerTokenizer::KmerTokenizer(int k, int stride) : k_(k), stride_(stride) {
  if (k < 1 || k > kMaxK) {
    throw Error("k-mer size k=" + std::to_string(k) + " is out of range (expected 1 to " +
                std::to_string(kMaxK) + ")");
  }
  if (stride < 1 || stride > k) {
    throw Error("k-mer stride " + std::to_string(stride) +
                " is out of range for k=" + std::to_string(k) + " (expected 1 to k)");
  }
}

std::int32_t KmerTokenizer::vocab_size() const {
  return SpecialIds::count + (1 << (2 * k_));
}

void KmerTokenizer::encode_into(std::string_view sequence, std::vector<std::int32_t>& out) const {
  const std::size_t n = sequence.size();
  if (n < static_cast<std::size_t>(k_)) return;
  const std::size_t windows = (n - k_) / stride_ + 1;
  const std::size_t first = out.size();
  out.resize(first + windows);
  std::int32_t* ids = out.data() + first;

  // One pass with a rolling 2k-bit code: every base shifts in, and `clean` counts how many of the
  // most recent bases were A/C/G/T, so a window is valid when clean >= k. Windows end every
  // `stride` bases once the first one is complete.
  const std::uint32_t mask = (1u << (2 * k_)) - 1u;  // k <= 8, so at most 16 bits
  std::uint32_t code = 0;
  int clean = 0;
  int until_emit = k_;  // bases to read before the next window ends
  std::size_t emitted = 0;
  const auto* bases = reinterpret_cast<const unsigned char*>(sequence.data());
  for (std::size_t i = 0; i < n; ++i) {
    const std::int8_t b = kBaseCodes.code[bases[i]];
    const bool valid = b >= 0;
    code = ((code << 2) | static_cast<std::uint32_t>(b & 3)) & mask;
    clean = valid ? clean + 1 : 0;
    if (--until_emit == 0) {
      ids[emitted++] =
          clean >= k_ ? SpecialIds::count + static_cast<std::int32_t>(code) : SpecialIds::unk;
      until_emit = stride_;
    }
  }
}

std::string KmerTokenizer::id_to_token(std::int32_t id) const {
  if (is_special(id)) return std::string(kSpecialNames[id]);
  if (id < 0 || id >= vocab_size()) {
    throw Error("token id " + std::to_string(id) + " is outside the k-mer vocabulary of " +
                std::to_string(vocab_size()));
  }
  std::uint32_t code = static_cast<std::uint32_t>(id - SpecialIds::count);
  std::string kmer(k_, 'A');
  for (int i = k_ - 1; i >= 0; --i) {
    kmer[i] = kBases[code & 3u];
    code >>= 2;
  }
  return kmer;
}

std::string KmerTokenizer::decode(std::span<const std::int32_t> ids) const {
  // Overlapping windows: the first window of a run gives all k bases, each later one the `stride`
  // bases it adds. <unk> windows decode as N; other specials print by name and break the run.
  std::string out;
  bool in_run = false;
  for (const std::int32_t id : ids) {
    if (id == SpecialIds::pad) continue;
    std::string window;
    if (id == SpecialIds::unk) {
      window.assign(k_, 'N');
    } else if (is_special(id)) {
      out += kSpecialNames[id];
      in_run = false;
      continue;
    } else {
      window = id_to_token(id);
    }
    out += in_run ? window.substr(k_ - stride_) : window;
    in_run = true;
  }
  return out;
}

StreamSplit KmerTokenizer::stream_split(std::size_t available) const {
  const auto k = static_cast<std::size_t>(k_);
  const auto s = static_cast<std::size_t>(stride_);
  if (available < k) return {0, 0};
  const std::size_t windows = (available - k) / s + 1;
  // Every complete window lies inside the buffer; the next window starts at windows * stride.
  return {available, windows * s};
}

nlohmann::json KmerTokenizer::parameters() const {
  return {{"k", k_}, {"stride", stride_}};
}

double KmerTokenizer::stride_prior() const {
  return stride_ * std::log(4.0);
}

}  // namespace genolm::tokenizers
