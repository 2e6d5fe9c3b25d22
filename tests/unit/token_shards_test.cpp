#include "data/token_shards.h"

#include <gtest/gtest.h>

#include <numeric>

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

}  // namespace
}  // namespace genolm::data
