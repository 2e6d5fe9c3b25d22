#include "data/lm_stream.h"

#include <gtest/gtest.h>

#include <numeric>

#include "data/token_shards.h"
#include "genolm/error.h"
#include "support/test_files.h"

namespace genolm::data {
namespace {

// A split of tokens 0, 1, ..., n-1 across two shards.
struct Split {
  test::TempDir dir;
  TokenSplit split;
  explicit Split(int n) {
    ShardWriter writer(dir.path(), "train", 2, static_cast<std::uint64_t>(n / 2 + 1));
    std::vector<std::int32_t> ids(static_cast<std::size_t>(n));
    std::iota(ids.begin(), ids.end(), 0);
    writer.append(ids);
    writer.close();
    nlohmann::json manifest = {{"shards", nlohmann::json::array()}, {"tokens", writer.tokens()}};
    for (const auto& shard : writer.shards()) {
      manifest["shards"].push_back({{"file", shard.file}, {"tokens", shard.tokens}});
    }
    split = TokenSplit(dir.path(), manifest, 2, "test split");
  }
};

// Data parallel ranks read whole streams: rank 0's rows then rank 1's are the single-process batch,
// for sequential batches and random windows alike.
TEST(LmStream, RanksSplitTheGlobalBatchByRows) {
  Split data(400);
  LmStream whole(data.split, 4, false);
  LmStream first(data.split, 4, false, 0, 2), second(data.split, 4, false, 2, 2);
  LmBatch all, a, b;
  for (int step = 0; step < 3; ++step) {
    ASSERT_TRUE(whole.next(7, all));
    ASSERT_TRUE(first.next(7, a));
    ASSERT_TRUE(second.next(7, b));
    EXPECT_EQ(a.rows, 2);
    std::vector<std::int64_t> joined = a.inputs;
    joined.insert(joined.end(), b.inputs.begin(), b.inputs.end());
    EXPECT_EQ(joined, all.inputs);
  }
  std::mt19937_64 rng_all(3), rng_a(3), rng_b(3);
  whole.random_windows(9, rng_all, all);
  first.random_windows(9, rng_a, a);
  second.random_windows(9, rng_b, b);
  std::vector<std::int64_t> joined = a.targets;
  joined.insert(joined.end(), b.targets.begin(), b.targets.end());
  EXPECT_EQ(joined, all.targets);
  EXPECT_EQ(rng_a(), rng_all());  // every rank drew as much as one process would
}

TEST(LmStream, ContiguousParallelStreamsLikeFastai) {
  Split data(100);
  LmStream stream(data.split, 4, false);  // 4 streams of 25 tokens: 0-24, 25-49, ...
  EXPECT_EQ(stream.stream_length(), 25u);
  LmBatch batch;
  ASSERT_TRUE(stream.next(10, batch));
  EXPECT_EQ(batch.steps, 10);
  EXPECT_EQ(batch.inputs[0], 0);
  EXPECT_EQ(batch.targets[0], 1);
  EXPECT_EQ(batch.inputs[1 * 10], 25);  // row 1 starts at its own stream
  ASSERT_TRUE(stream.next(10, batch));
  EXPECT_EQ(batch.inputs[0], 10);  // continues where the last batch ended
  ASSERT_TRUE(stream.next(10, batch));
  EXPECT_EQ(batch.steps, 4);  // 24 tokens give 24 inputs with targets, 20 used
  EXPECT_EQ(batch.targets[3 * 4 + 3], 99);
  EXPECT_FALSE(stream.next(10, batch));
}

TEST(LmStream, BackwardReadsTheSplitReversed) {
  Split data(20);
  LmStream stream(data.split, 2, true);
  LmBatch batch;
  ASSERT_TRUE(stream.next(3, batch));
  EXPECT_EQ(batch.inputs[0], 19);
  EXPECT_EQ(batch.targets[0], 18);
  EXPECT_EQ(batch.inputs[3], 9);
}

TEST(LmStream, PositionRestoresTheStream) {
  Split data(200);
  LmStream first(data.split, 3, false);
  LmBatch a, b;
  first.next(7, a);
  LmStream second(data.split, 3, false);
  second.set_position(first.position());
  first.next(7, a);
  second.next(7, b);
  EXPECT_EQ(a.inputs, b.inputs);
}

TEST(LmStream, TooSmallForTheBatchIsAnError) {
  Split data(10);
  EXPECT_THROW(LmStream(data.split, 8, false), Error);
}

TEST(LmStream, RandomBpttFollowsFastai) {
  std::mt19937_64 rng(1);
  double sum = 0;
  int halves = 0;
  for (int i = 0; i < 10000; ++i) {
    const auto length = random_bptt(70, rng);
    ASSERT_GE(length, 5);
    sum += static_cast<double>(length);
    if (length < 52) ++halves;
  }
  EXPECT_NEAR(sum / 10000, 0.95 * 69.5 + 0.05 * 34.5, 1.0);  // truncation lowers each by ~0.5
  EXPECT_NEAR(halves / 10000.0, 0.05, 0.01);
  std::mt19937_64 again(1);
  std::mt19937_64 same(1);
  EXPECT_EQ(random_bptt(70, again), random_bptt(70, same));
}

}  // namespace
}  // namespace genolm::data
