#pragma once
// Counts of 64-bit keys in one flat open-addressing table (linear probing), for n-gram counting:
// a key costs 16 bytes, against about 40 in std::unordered_map, and a count is one probe in the
// common case. The table refuses to hold more than `max_keys` distinct keys, so a count that would
// outgrow memory stops with an answer instead of swapping.

#include <cstdint>
#include <vector>

namespace genolm::data {

class CountTable {
 public:
  // A key the table can hold is anything but kEmpty.
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};

  explicit CountTable(std::uint64_t max_keys) : max_keys_(max_keys) { rehash(1024); }

  // Adds `count` to `key`; false (and nothing added) when the key is new and the table already
  // holds max_keys keys.
  bool add(std::uint64_t key, std::uint64_t count = 1) {
    std::size_t slot = find(key);
    if (keys_[slot] == kEmpty) {
      if (size_ >= max_keys_) return false;
      // Keep the load under 1/2: probes stay short, and growing moves every key once on average.
      if (2 * (size_ + 1) > keys_.size()) {
        rehash(2 * keys_.size());
        slot = find(key);
      }
      keys_[slot] = key;
      ++size_;
    }
    counts_[slot] += count;
    return true;
  }

  std::uint64_t get(std::uint64_t key) const {
    const std::size_t slot = find(key);
    return keys_[slot] == kEmpty ? 0 : counts_[slot];
  }

  std::uint64_t size() const { return size_; }

  template <typename Visit>
  void for_each(Visit&& visit) const {
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (keys_[i] != kEmpty) visit(keys_[i], counts_[i]);
  }

 private:
  std::size_t find(std::uint64_t key) const {
    // Keys are packed token ids whose low bits vary least in some corpora: mix before masking.
    std::uint64_t h = key * 0x9e3779b97f4a7c15ULL;
    std::size_t slot = static_cast<std::size_t>(h ^ (h >> 29)) & (keys_.size() - 1);
    while (keys_[slot] != kEmpty && keys_[slot] != key)
      slot = (slot + 1) & (keys_.size() - 1);
    return slot;
  }

  void rehash(std::size_t capacity) {
    std::vector<std::uint64_t> old_keys(capacity, kEmpty), old_counts(capacity, 0);
    old_keys.swap(keys_);
    old_counts.swap(counts_);
    for (std::size_t i = 0; i < old_keys.size(); ++i) {
      if (old_keys[i] == kEmpty) continue;
      const std::size_t slot = find(old_keys[i]);
      keys_[slot] = old_keys[i];
      counts_[slot] = old_counts[i];
    }
  }

  std::uint64_t max_keys_;
  std::uint64_t size_ = 0;
  std::vector<std::uint64_t> keys_;
  std::vector<std::uint64_t> counts_;
};

}  // namespace genolm::data
