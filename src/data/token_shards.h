#pragma once
// Token shards: flat little-endian files of uint16 ids (uint32 when the vocabulary needs more),
// written sequentially and read back by memory mapping, so a corpus of billions of tokens costs
// page cache, not process memory.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace genolm::data {

// Bytes per token for a vocabulary: 2 while every id fits in uint16, else 4.
int token_width(std::int64_t vocab_size);

// Appends tokens to <dir>/<prefix>-00000.<ext>, starting a new shard every `shard_tokens`.
class ShardWriter {
 public:
  ShardWriter(std::filesystem::path dir, std::string prefix, int width, std::uint64_t shard_tokens);
  ~ShardWriter();
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  void append(std::span<const std::int32_t> ids);
  // Flushes and closes the open shard; throws if the disk refused anything.
  void close();

  struct Shard {
    std::string file;
    std::uint64_t tokens;
  };
  const std::vector<Shard>& shards() const { return shards_; }
  std::uint64_t tokens() const { return tokens_; }

 private:
  void open_next();
  std::filesystem::path dir_;
  std::string prefix_;
  int width_;
  std::uint64_t shard_tokens_;
  std::FILE* file_ = nullptr;
  std::vector<Shard> shards_;
  std::uint64_t tokens_ = 0;
  std::vector<std::uint8_t> staging_;
};

// A read-only memory mapping of one shard.
class MappedShard {
 public:
  MappedShard(const std::filesystem::path& file, int width, std::uint64_t tokens);
  ~MappedShard();
  MappedShard(MappedShard&& other) noexcept;
  MappedShard(const MappedShard&) = delete;
  MappedShard& operator=(const MappedShard&) = delete;
  MappedShard& operator=(MappedShard&&) = delete;

  std::uint64_t size() const { return tokens_; }
  std::int32_t operator[](std::uint64_t i) const {
    return width_ == 2 ? static_cast<const std::uint16_t*>(data_)[i]
                       : static_cast<std::int32_t>(static_cast<const std::uint32_t*>(data_)[i]);
  }

 private:
  const void* data_ = nullptr;
  std::size_t bytes_ = 0;
  int width_;
  std::uint64_t tokens_;
};

}  // namespace genolm::data
