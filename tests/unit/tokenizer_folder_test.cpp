#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "genolm/error.h"
#include "genolm/tokenizers/character.h"
#include "genolm/tokenizers/kmer.h"
#include "genolm/tokenizers/tokenizer.h"
#include "support/test_files.h"

namespace genolm::tokenizers {
namespace {

TEST(TokenizerFolder, ManifestDescribesTheTokenizer) {
  test::TempDir dir;
  KmerTokenizer(4, 2).save(dir / "k4");
  const auto manifest = nlohmann::json::parse(test::read_text(dir / "k4" / "tokenizer.json"));
  EXPECT_EQ(manifest["format"], "genolm-tokenizer");
  EXPECT_EQ(manifest["format_version"], kManifestFormatVersion);
  EXPECT_EQ(manifest["kind"], "kmer");
  EXPECT_EQ(manifest["parameters"]["k"], 4);
  EXPECT_EQ(manifest["parameters"]["stride"], 2);
  EXPECT_EQ(manifest["vocab_size"], SpecialIds::count + 256);
  EXPECT_EQ(manifest["specials"]["mask"], SpecialIds::mask);
}

TEST(TokenizerFolder, EveryBuiltInKindRoundTrips) {
  test::TempDir dir;
  const std::string dna = test::random_dna(200, 2) + "NNACGT";
  KmerTokenizer(5, 3).save(dir / "kmer");
  CharacterTokenizer::nucleotide().save(dir / "nt");
  CharacterTokenizer::protein().save(dir / "aa");
  EXPECT_EQ(load_tokenizer(dir / "kmer")->encode(dna), KmerTokenizer(5, 3).encode(dna));
  EXPECT_EQ(load_tokenizer(dir / "nt")->encode(dna), CharacterTokenizer::nucleotide().encode(dna));
  EXPECT_EQ(load_tokenizer(dir / "aa")->encode("EVQLVESGG"),
            CharacterTokenizer::protein().encode("EVQLVESGG"));
  EXPECT_EQ(load_tokenizer(dir / "aa", "protein")->kind(), "protein");
}

TEST(TokenizerFolder, FolderOfAnotherKindIsRefused) {
  test::TempDir dir;
  CharacterTokenizer::protein().save(dir / "aa");
  const std::string message = test::error_of([&] { load_tokenizer(dir / "aa", "kmer"); });
  EXPECT_NE(message.find("holds a 'protein' tokenizer, expected 'kmer'"), std::string::npos)
      << message;
}

TEST(TokenizerFolder, AnotherFormatVersionIsRefused) {
  test::TempDir dir;
  KmerTokenizer(3, 1).save(dir / "k3");
  auto manifest = nlohmann::json::parse(test::read_text(dir / "k3" / "tokenizer.json"));
  manifest["format_version"] = kManifestFormatVersion + 1;
  test::write_text(dir / "k3" / "tokenizer.json", manifest.dump());
  const std::string message = test::error_of([&] { load_tokenizer(dir / "k3"); });
  EXPECT_NE(message.find("format version 2"), std::string::npos) << message;
}

TEST(TokenizerFolder, MissingOrForeignFoldersAreRefused) {
  test::TempDir dir;
  EXPECT_NE(test::error_of([&] { load_tokenizer(dir / "nowhere"); }).find("does not exist"),
            std::string::npos);
  std::filesystem::create_directories(dir / "empty");
  EXPECT_NE(
      test::error_of([&] { load_tokenizer(dir / "empty"); }).find("not a genolm tokenizer folder"),
      std::string::npos);
  std::filesystem::create_directories(dir / "broken");
  test::write_text(dir / "broken" / "tokenizer.json", "{ not json");
  EXPECT_NE(test::error_of([&] { load_tokenizer(dir / "broken"); }).find("not valid JSON"),
            std::string::npos);
  std::filesystem::create_directories(dir / "bad_k");
  test::write_text(dir / "bad_k" / "tokenizer.json",
                   R"({"format": "genolm-tokenizer", "format_version": 1, "kind": "kmer",
                       "parameters": {"k": 12, "stride": 1}})");
  EXPECT_NE(test::error_of([&] { load_tokenizer(dir / "bad_k"); }).find("k=12"), std::string::npos);
  // Found by the fuzzer: a number where the format's name belongs escaped as a raw JSON error.
  std::filesystem::create_directories(dir / "numeric_format");
  test::write_text(dir / "numeric_format" / "tokenizer.json",
                   R"({"format": 1, "kind": "kmer", "parameters": {"k": 3, "stride": 2}})");
  EXPECT_EQ(test::error_of([&] { load_tokenizer(dir / "numeric_format"); }),
            (dir / "numeric_format" / "tokenizer.json").string() +
                ": expected \"format\": \"genolm-tokenizer\"");
}

}  // namespace
}  // namespace genolm::tokenizers

namespace genolm::tokenizers {
namespace {

// What callers ask of a tokenizer instead of its kind's name.
TEST(TokenizerTraits, EachKindReportsItsAlphabetStrandsAndStridePrior) {
  const KmerTokenizer kmer(6, 3);
  EXPECT_EQ(kmer.alphabet(), SequenceAlphabet::dna);
  EXPECT_TRUE(kmer.reverse_complement_applies());
  EXPECT_NEAR(kmer.stride_prior(), 3 * std::log(4.0), 1e-12);

  const auto nucleotide = CharacterTokenizer::nucleotide();
  EXPECT_TRUE(nucleotide.reverse_complement_applies());
  EXPECT_NEAR(nucleotide.stride_prior(), std::log(4.0), 1e-12);

  const auto protein = CharacterTokenizer::protein();
  EXPECT_EQ(protein.alphabet(), SequenceAlphabet::protein);
  EXPECT_FALSE(protein.reverse_complement_applies());
  EXPECT_TRUE(std::isnan(protein.stride_prior()));
}

}  // namespace
}  // namespace genolm::tokenizers
