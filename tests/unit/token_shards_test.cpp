#include "data/token_shards.h"

#include <gtest/gtest.h>

#include <numeric>

#include "data/token_corpus.h"
#include "genolm/error.h"
#include "support/test_files.h"

namespace genolm::data {
namespace {

TEST(TokenShards, WidthFollowsTheVocabulary) {
  EXPECT_EQ(token_width(71), 2);
  EXPECT_EQ(token_width(65536), 2);
  EXPECT_EQ(token_width(65543), 4);  // 8-mers with specials
}

TEST(TokenShards, WriteThenMapAcrossShards) {
  test::TempDir dir;
  for (int width : {2, 4}) {
    std::string prefix = "w";
    prefix += std::to_string(width);
    ShardWriter writer(dir.path(), prefix, width, 1000);
    std::vector<std::int32_t> ids(2500);
    std::iota(ids.begin(), ids.end(), 0);
    writer.append(std::span(ids).subspan(0, 700));
    writer.append(std::span(ids).subspan(700));
    writer.close();
    ASSERT_EQ(writer.shards().size(), 3u);
    EXPECT_EQ(writer.shards()[2].tokens, 500u);
    std::int64_t index = 0;
    for (const auto& shard : writer.shards()) {
      MappedShard mapped(dir / shard.file, width, shard.tokens);
      for (std::uint64_t i = 0; i < mapped.size(); ++i)
        ASSERT_EQ(mapped[i], index++);
    }
  }
}

TEST(TokenShards, IdTooWideForUint16IsRefused) {
  test::TempDir dir;
  ShardWriter writer(dir.path(), "x", 2, 100);
  const std::vector<std::int32_t> ids = {1, 70000};
  EXPECT_THROW(writer.append(ids), Error);
}

TEST(TokenShards, TruncatedShardIsReportedNotRead) {
  test::TempDir dir;
  test::write_text(dir / "s.u16", std::string(10, '\0'));
  try {
    MappedShard shard(dir / "s.u16", 2, 6);
    FAIL() << "a short shard was mapped";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("has 10 bytes, expected 12"), std::string::npos)
        << e.what();
  }
}

// A corpus folder holding `manifest` as corpus.json and a real 500-token shard of 2-byte tokens.
std::string corpus_error(const test::TempDir& dir, const std::string& manifest) {
  test::write_text(dir / "train-00000.u16", std::string(1000, '\1'));
  test::write_text(dir / "corpus.json", manifest);
  return test::error_of([&] { TokenCorpus corpus(dir.path()); });
}

std::string manifest_with(const std::string& train_shards, const std::string& train_tokens,
                          const std::string& vocab = "\"vocab_size\": 71") {
  return R"({"format": "genolm-corpus", "format_version": 1, "token_bytes": 2, )" + vocab +
         R"(, "splits": {"train": {"shards": [)" + train_shards + R"(], "tokens": )" +
         train_tokens + R"(}, "valid": {"shards": [], "tokens": 0}}})";
}

TEST(TokenCorpusManifest, ATokenCountThatWrapsTheSizeCheckIsAClearError) {
  // ../shared/reliability/corpus_tokens_wrap.json: 2^63 + 500 tokens of 2 bytes wraps to 1000.
  test::TempDir dir;
  const std::string wrapping = "9223372036854776308";
  const auto message = corpus_error(
      dir, manifest_with(R"({"file": "train-00000.u16", "tokens": )" + wrapping + "}", wrapping));
  EXPECT_EQ(message, "corpus shard " + (dir / "train-00000.u16").string() +
                         " has 1000 bytes, expected more than 2^64 (" + wrapping +
                         " tokens of 2 bytes): truncated or from another build");
}

TEST(TokenCorpusManifest, ShardNamesStayInsideTheFolderAndTotalsMustAgree) {
  test::TempDir dir;
  const auto manifest = (dir / "corpus.json").string();
  EXPECT_EQ(
      corpus_error(dir, manifest_with(R"({"file": "../train-00000.u16", "tokens": 500})", "500")),
      manifest +
          " split \"train\": shard file \"../train-00000.u16\" is not a file name "
          "inside the corpus folder");
  EXPECT_EQ(
      corpus_error(dir, manifest_with(R"({"file": "train-00000.u16", "tokens": 500})", "501")),
      manifest + " split \"train\": \"tokens\" is 501, but its shards hold 500");
  EXPECT_EQ(
      corpus_error(dir, manifest_with(R"({"file": "train-00000.u16", "tokens": 500})", "500")), "");
}

TEST(TokenCorpusManifest, TheVocabularySizeIsCheckedBeforeItSizesAnything) {
  test::TempDir dir;
  const auto manifest = (dir / "corpus.json").string();
  const std::string shard = R"({"file": "train-00000.u16", "tokens": 500})";
  const std::string expected =
      manifest + ": \"vocab_size\" must be a whole number from 1 to 1048576";
  EXPECT_EQ(corpus_error(dir, manifest_with(shard, "500", "\"no_vocab\": 1")), expected);
  EXPECT_EQ(corpus_error(dir, manifest_with(shard, "500", "\"vocab_size\": 5000000000")), expected);
  EXPECT_EQ(corpus_error(dir, manifest_with(shard, "500", "\"vocab_size\": \"71\"")), expected);
  EXPECT_EQ(corpus_error(dir, manifest_with(shard, "500", "\"vocab_size\": 70000")),
            manifest + ": \"vocab_size\" 70000 does not fit token_bytes 2");
}

TEST(TokenCorpusManifest, ATokenOutsideTheVocabularyIsAnErrorNotAnOutOfBoundsRead) {
  test::TempDir dir;
  // The shard's bytes are all 1: every 2-byte token is 257, beyond a vocabulary of 71.
  ASSERT_EQ(
      corpus_error(dir, manifest_with(R"({"file": "train-00000.u16", "tokens": 500})", "500")), "");
  const TokenCorpus corpus(dir.path());
  std::vector<std::int32_t> out(10);
  const std::string expected = (dir / "corpus.json").string() +
                               " split \"train\": token 257 at position 3 is outside the "
                               "vocabulary of 71 (a damaged shard, or one of another corpus)";
  EXPECT_EQ(test::error_of([&] { corpus.train().read(3, 10, out.data()); }), expected);
  EXPECT_EQ(test::error_of([&] { corpus.train()[3]; }), expected);
}

}  // namespace
}  // namespace genolm::data
