#include "genolm/tokenizers/tokenizer.h"

#include <cmath>
#include <fstream>
#include <system_error>

#include "genolm/atomic_file.h"
#include "genolm/error.h"
#include "genolm/tokenizers/character.h"
#include "genolm/tokenizers/kmer.h"
#include "genolm/tokenizers/sentencepiece.h"

namespace genolm::tokenizers {
namespace {

constexpr std::string_view kFormatName = "genolm-tokenizer";

int json_int(const nlohmann::json& parameters, const char* key, const std::filesystem::path& file) {
  if (!parameters.contains(key) || !parameters.at(key).is_number_integer()) {
    throw Error(file.string() + ": parameter '" + key + "' is missing or not an integer");
  }
  return parameters.at(key).get<int>();
}

}  // namespace

double Tokenizer::stride_prior() const {
  return std::nan("");
}

std::vector<std::int32_t> Tokenizer::encode(std::string_view sequence) const {
  std::vector<std::int32_t> ids;
  encode_into(sequence, ids);
  return ids;
}

std::vector<std::int32_t> Tokenizer::encode_pair(std::string_view first,
                                                 std::string_view second) const {
  std::vector<std::int32_t> ids;
  encode_into(first, ids);
  ids.push_back(SpecialIds::sep);
  encode_into(second, ids);
  return ids;
}

void Tokenizer::save(const std::filesystem::path& dir) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error("cannot create tokenizer folder " + dir.string() + ": " + ec.message());
  save_files(dir);

  nlohmann::json manifest;
  manifest["format"] = kFormatName;
  manifest["format_version"] = kManifestFormatVersion;
  manifest["kind"] = kind();
  manifest["parameters"] = parameters();
  manifest["vocab_size"] = vocab_size();
  nlohmann::json specials;
  for (std::int32_t id = 0; id < SpecialIds::count; ++id) {
    specials[std::string(kSpecialKeys[id])] = id;
  }
  manifest["specials"] = specials;

  write_file_atomically(dir / kManifestFileName, manifest.dump(2) + "\n");
}

nlohmann::json read_tokenizer_manifest(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) {
    throw Error("tokenizer folder " + dir.string() +
                " does not exist (expected a folder written by " + "'genolm tokenizer train')");
  }
  const auto file = dir / kManifestFileName;
  std::ifstream in(file);
  if (!in) {
    throw Error("folder " + dir.string() + " holds no " + std::string(kManifestFileName) +
                ": it is not a genolm tokenizer folder");
  }
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(file.string() + ": not valid JSON (" + e.what() + ")");
  }
  // Each value's type is checked before it is read: a number where a string belongs was once an
  // uncaught JSON type error (found by tests/fuzz/tokenizer_json_fuzz).
  const auto format = manifest.is_object() ? manifest.find("format") : manifest.end();
  if (!manifest.is_object() || format == manifest.end() || !format->is_string() ||
      format->get_ref<const std::string&>() != kFormatName) {
    throw Error(file.string() + ": expected \"format\": \"" + std::string(kFormatName) + "\"");
  }
  if (!manifest.contains("format_version") || !manifest["format_version"].is_number_integer()) {
    throw Error(file.string() + ": \"format_version\" is missing or not an integer");
  }
  const int version = manifest["format_version"].get<int>();
  if (version != kManifestFormatVersion) {
    throw Error(file.string() + ": tokenizer format version " + std::to_string(version) +
                ", but this genolm reads version " + std::to_string(kManifestFormatVersion));
  }
  if (!manifest.contains("kind") || !manifest["kind"].is_string()) {
    throw Error(file.string() + ": \"kind\" is missing or not a string");
  }
  if (!manifest.contains("parameters") || !manifest["parameters"].is_object()) {
    throw Error(file.string() + ": \"parameters\" is missing or not an object");
  }
  return manifest;
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& dir) {
  const nlohmann::json manifest = read_tokenizer_manifest(dir);
  const auto file = dir / kManifestFileName;
  const std::string kind = manifest["kind"].get<std::string>();
  const nlohmann::json& parameters = manifest["parameters"];

  std::unique_ptr<Tokenizer> tokenizer;
  if (kind == "kmer") {
    tokenizer = std::make_unique<KmerTokenizer>(json_int(parameters, "k", file),
                                                json_int(parameters, "stride", file));
  } else if (kind == "nucleotide") {
    tokenizer = std::make_unique<CharacterTokenizer>(CharacterTokenizer::nucleotide());
  } else if (kind == "protein") {
    tokenizer = std::make_unique<CharacterTokenizer>(CharacterTokenizer::protein());
  } else if (kind == "bpe" || kind == "unigram") {
    const int piece_bases = json_int(parameters, "piece_bases", file);
    if (piece_bases <= 0) throw Error(file.string() + ": \"piece_bases\" must be positive");
    tokenizer = std::make_unique<SentencePieceTokenizer>(
        kind, dir / SentencePieceTokenizer::kModelFileName, static_cast<std::size_t>(piece_bases));
  } else {
    throw Error(file.string() + ": unknown tokenizer kind '" + kind +
                "' (expected kmer, nucleotide, protein, bpe or unigram)");
  }
  if (manifest.contains("vocab_size") && manifest["vocab_size"] != tokenizer->vocab_size()) {
    throw Error(file.string() + ": manifest says vocab_size " + manifest["vocab_size"].dump() +
                " but the tokenizer has " + std::to_string(tokenizer->vocab_size()));
  }
  return tokenizer;
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& dir,
                                          std::string_view expected_kind) {
  const nlohmann::json manifest = read_tokenizer_manifest(dir);
  const std::string kind = manifest["kind"].get<std::string>();
  if (kind != expected_kind) {
    throw Error("tokenizer folder " + dir.string() + " holds a '" + kind +
                "' tokenizer, expected '" + std::string(expected_kind) + "'");
  }
  return load_tokenizer(dir);
}

}  // namespace genolm::tokenizers
