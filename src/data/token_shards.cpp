#include "data/token_shards.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "genolm/error.h"

namespace genolm::data {

int token_width(std::int64_t vocab_size) {
  return vocab_size <= std::numeric_limits<std::uint16_t>::max() + std::int64_t{1} ? 2 : 4;
}

ShardWriter::ShardWriter(std::filesystem::path dir, std::string prefix, int width,
                         std::uint64_t shard_tokens)
    : dir_(std::move(dir)), prefix_(std::move(prefix)), width_(width), shard_tokens_(shard_tokens) {
  if (shard_tokens_ == 0) shard_tokens_ = 1;
}

ShardWriter::~ShardWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void ShardWriter::open_next() {
  char name[64];
  std::snprintf(name, sizeof name, "%s-%05zu.%s", prefix_.c_str(), shards_.size(),
                width_ == 2 ? "u16" : "u32");
  const auto path = dir_ / name;
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) throw Error("cannot create " + path.string() + ": " + std::strerror(errno));
  shards_.push_back({name, 0});
}

void ShardWriter::append(std::span<const std::int32_t> ids) {
  std::size_t done = 0;
  while (done < ids.size()) {
    if (file_ == nullptr || shards_.back().tokens == shard_tokens_) {
      close();
      open_next();
    }
    const std::size_t take =
        std::min<std::uint64_t>(ids.size() - done, shard_tokens_ - shards_.back().tokens);
    staging_.resize(take * static_cast<std::size_t>(width_));
    // Ids are checked against the width: a silent wrap would corrupt the corpus.
    if (width_ == 2) {
      auto* out = reinterpret_cast<std::uint16_t*>(staging_.data());
      for (std::size_t i = 0; i < take; ++i) {
        const std::int32_t id = ids[done + i];
        if (id < 0 || id > 0xffff)
          throw Error("token id " + std::to_string(id) + " exceeds uint16");
        out[i] = static_cast<std::uint16_t>(id);
      }
    } else {
      auto* out = reinterpret_cast<std::uint32_t*>(staging_.data());
      for (std::size_t i = 0; i < take; ++i)
        out[i] = static_cast<std::uint32_t>(ids[done + i]);
    }
    if (std::fwrite(staging_.data(), 1, staging_.size(), file_) != staging_.size()) {
      throw Error("cannot write " + (dir_ / shards_.back().file).string() + ": " +
                  std::strerror(errno));
    }
    shards_.back().tokens += take;
    tokens_ += take;
    done += take;
  }
}

void ShardWriter::close() {
  if (file_ == nullptr) return;
  // Synced: the corpus folder is renamed into place next, and must never hold a short shard.
  const bool failed =
      std::fflush(file_) != 0 || std::ferror(file_) != 0 || ::fsync(::fileno(file_)) != 0;
  const int error = failed ? errno : 0;
  std::fclose(file_);
  file_ = nullptr;
  if (failed) {
    throw Error("cannot write " + (dir_ / shards_.back().file).string() + ": " +
                (error != 0 ? std::strerror(error) : "write error"));
  }
}

MappedShard::MappedShard(const std::filesystem::path& file, int width, std::uint64_t tokens)
    : width_(width), tokens_(tokens) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) throw Error("corpus shard " + file.string() + " is missing");
  // Compared by division: a count from a damaged manifest must not wrap a product into a match.
  const auto bytes_per_token = static_cast<std::uint64_t>(width);
  if (size % bytes_per_token != 0 || size / bytes_per_token != tokens) {
    const std::string expected =
        tokens <= std::numeric_limits<std::uint64_t>::max() / bytes_per_token
            ? std::to_string(tokens * bytes_per_token)
            : "more than 2^64";
    throw Error("corpus shard " + file.string() + " has " + std::to_string(size) +
                " bytes, expected " + expected + " (" + std::to_string(tokens) + " tokens of " +
                std::to_string(width) + " bytes): truncated or from another build");
  }
  bytes_ = static_cast<std::size_t>(size);
  if (bytes_ == 0) return;
  const int fd = ::open(file.c_str(), O_RDONLY);
  if (fd < 0) throw Error("cannot open " + file.string() + ": " + std::strerror(errno));
  void* data = ::mmap(nullptr, bytes_, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (data == MAP_FAILED) throw Error("cannot map " + file.string() + ": " + std::strerror(errno));
  data_ = data;
}

MappedShard::MappedShard(MappedShard&& other) noexcept
    : data_(other.data_), bytes_(other.bytes_), width_(other.width_), tokens_(other.tokens_) {
  other.data_ = nullptr;
  other.bytes_ = 0;
}

MappedShard::~MappedShard() {
  if (data_ != nullptr) ::munmap(const_cast<void*>(data_), bytes_);
}

}  // namespace genolm::data
