#include "data/token_corpus.h"

#include <algorithm>
#include <fstream>

#include "genolm/error.h"
#include "genolm/tokenizers/tokenizer.h"

namespace genolm::data {

namespace {

// A shard is named by a plain file name inside the corpus folder, never a path out of it.
std::string shard_file_name(const nlohmann::json& shard, const std::string& where) {
  const auto name = shard.at("file").get<std::string>();
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos) {
    throw Error(where + ": shard file \"" + name +
                "\" is not a file name inside the corpus folder");
  }
  return name;
}

}  // namespace

TokenSplit::TokenSplit(const std::filesystem::path& dir, const nlohmann::json& split_manifest,
                       int width, const std::string& where, std::int64_t vocab_size)
    : where_(where), vocab_size_(vocab_size) {
  for (const auto& shard : split_manifest.at("shards")) {
    const auto tokens = shard.at("tokens").get<std::uint64_t>();
    // Checked against the file's real size before anything is mapped or summed.
    shards_.emplace_back(dir / shard_file_name(shard, where), width, tokens);
    starts_.push_back(total_);
    total_ += tokens;
  }
  const auto declared = split_manifest.at("tokens").get<std::uint64_t>();
  if (declared != total_) {
    throw Error(where + ": \"tokens\" is " + std::to_string(declared) + ", but its shards hold " +
                std::to_string(total_));
  }
}

void TokenSplit::outside_vocabulary(std::int32_t token, std::uint64_t index) const {
  throw Error(where_ + ": token " + std::to_string(token) + " at position " +
              std::to_string(index) + " is outside the vocabulary of " +
              std::to_string(vocab_size_) + " (a damaged shard, or one of another corpus)");
}

std::int32_t TokenSplit::operator[](std::uint64_t i) const {
  const auto shard = std::upper_bound(starts_.begin(), starts_.end(), i) - starts_.begin() - 1;
  const auto token =
      shards_[static_cast<std::size_t>(shard)][i - starts_[static_cast<std::size_t>(shard)]];
  if (token < 0 || token >= vocab_size_) outside_vocabulary(token, i);
  return token;
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
    if (out[i] < 0 || out[i] >= vocab_size_) outside_vocabulary(out[i], begin + i);
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
    // Sizes the embedding and the decoder: a wild value must not become a huge allocation.
    const auto vocab = manifest_.find("vocab_size");
    if (vocab == manifest_.end() || !vocab->is_number_integer() || vocab->get<std::int64_t>() < 1 ||
        vocab->get<std::int64_t>() > tokenizers::kMaxVocabularySize) {
      throw Error(file.string() + ": \"vocab_size\" must be a whole number from 1 to " +
                  std::to_string(tokenizers::kMaxVocabularySize));
    }
    if (width == 2 && vocab->get<std::int64_t>() > 65536) {
      throw Error(file.string() + ": \"vocab_size\" " + vocab->dump() +
                  " does not fit token_bytes 2");
    }
    const auto vocab_size = vocab->get<std::int64_t>();
    train_ = TokenSplit(dir, manifest_.at("splits").at("train"), width,
                        file.string() + " split \"train\"", vocab_size);
    valid_ = TokenSplit(dir, manifest_.at("splits").at("valid"), width,
                        file.string() + " split \"valid\"", vocab_size);
  } catch (const nlohmann::json::exception& e) {
    throw Error(file.string() + ": malformed corpus manifest (" + e.what() + ")");
  }
}

}  // namespace genolm::data
