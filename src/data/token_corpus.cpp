#include "data/token_corpus.h"

#include <algorithm>
#include <fstream>

#include "genolm/error.h"

namespace genolm::data {

TokenSplit::TokenSplit(const std::filesystem::path& dir, const nlohmann::json& split_manifest,
                       int width) {
  for (const auto& shard : split_manifest.at("shards")) {
    const auto tokens = shard.at("tokens").get<std::uint64_t>();
    shards_.emplace_back(dir / shard.at("file").get<std::string>(), width, tokens);
    starts_.push_back(total_);
    total_ += tokens;
  }
}

std::int32_t TokenSplit::operator[](std::uint64_t i) const {
  const auto shard = std::upper_bound(starts_.begin(), starts_.end(), i) - starts_.begin() - 1;
  return shards_[static_cast<std::size_t>(shard)][i - starts_[static_cast<std::size_t>(shard)]];
}

void TokenSplit::read(std::uint64_t begin, std::size_t count, std::int32_t* out) const {
  if (begin + count > total_) {
    throw Error("corpus read of tokens [" + std::to_string(begin) + ", " +
                std::to_string(begin + count) + ") is past the end (" + std::to_string(total_) +
                " tokens)");
  }
  if (count == 0) return;
  auto shard = static_cast<std::size_t>(std::upper_bound(starts_.begin(), starts_.end(), begin) -
                                        starts_.begin() - 1);
  std::uint64_t offset = begin - starts_[shard];
  for (std::size_t i = 0; i < count; ++i) {
    while (offset == shards_[shard].size()) {
      ++shard;
      offset = 0;
    }
    out[i] = shards_[shard][offset++];
  }
}

TokenCorpus::TokenCorpus(const std::filesystem::path& dir) : dir_(dir) {
  const auto file = dir / kCorpusManifestName;
  std::ifstream in(file);
  if (!in) {
    throw Error("folder " + dir.string() + " holds no " + std::string(kCorpusManifestName) +
                ": not a corpus built by 'genolm corpus'");
  }
  try {
    manifest_ = nlohmann::json::parse(in);
    if (manifest_.value("format", "") != kCorpusFormatName) {
      throw Error(file.string() + ": expected \"format\": \"" + std::string(kCorpusFormatName) +
                  "\"");
    }
    const int version = manifest_.at("format_version").get<int>();
    if (version != kCorpusFormatVersion) {
      throw Error(file.string() + ": corpus format version " + std::to_string(version) +
                  ", but this genolm reads version " + std::to_string(kCorpusFormatVersion));
    }
    const int width = manifest_.at("token_bytes").get<int>();
    if (width != 2 && width != 4) throw Error(file.string() + ": token_bytes must be 2 or 4");
    train_ = TokenSplit(dir, manifest_.at("splits").at("train"), width);
    valid_ = TokenSplit(dir, manifest_.at("splits").at("valid"), width);
  } catch (const nlohmann::json::exception& e) {
    throw Error(file.string() + ": malformed corpus manifest (" + e.what() + ")");
  }
}

}  // namespace genolm::data
