#pragma once
// A token corpus folder written by build_corpus(): corpus.json (the manifest), tokenizer/, and the
// memory-mapped shards of each split. Opening checks the manifest and every shard's size.

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/token_shards.h"

namespace genolm::data {

inline constexpr std::string_view kCorpusManifestName = "corpus.json";
inline constexpr std::string_view kCorpusFormatName = "genolm-corpus";
inline constexpr int kCorpusFormatVersion = 1;

// One split (train or valid) as one long sequence of tokens over its shards.
class TokenSplit {
 public:
  TokenSplit() = default;
  // `where` names the manifest and split in errors. Every token read is checked to be below
  // `vocab_size`: a damaged shard must give an error, not an embedding read out of bounds.
  TokenSplit(const std::filesystem::path& dir, const nlohmann::json& split_manifest, int width,
             const std::string& where,
             std::int64_t vocab_size = std::numeric_limits<std::int32_t>::max());

  std::uint64_t size() const { return total_; }
  std::int32_t operator[](std::uint64_t i) const;
  // Copies tokens [begin, begin + count) into `out`, across shard boundaries.
  void read(std::uint64_t begin, std::size_t count, std::int32_t* out) const;

 private:
  std::vector<MappedShard> shards_;
  std::vector<std::uint64_t> starts_;  // first global index of each shard
  std::uint64_t total_ = 0;
  std::string where_;
  std::int64_t vocab_size_ = std::numeric_limits<std::int32_t>::max();
  [[noreturn]] void outside_vocabulary(std::int32_t token, std::uint64_t index) const;
};

class TokenCorpus {
 public:
  explicit TokenCorpus(const std::filesystem::path& dir);

  const nlohmann::json& manifest() const { return manifest_; }
  std::int64_t vocab_size() const { return manifest_.at("vocab_size").get<std::int64_t>(); }
  const TokenSplit& train() const { return train_; }
  const TokenSplit& valid() const { return valid_; }
  std::filesystem::path tokenizer_dir() const { return dir_ / "tokenizer"; }

 private:
  std::filesystem::path dir_;
  nlohmann::json manifest_;
  TokenSplit train_;
  TokenSplit valid_;
};

}  // namespace genolm::data
