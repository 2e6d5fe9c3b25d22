#include <gtest/gtest.h>

#include "data/corpus_builder.h"

namespace genolm::data {
namespace {

TEST(SplitAssigner, HoldsOutTheAskedShareSpreadEvenly) {
  SplitAssigner assigner(0.01, 42);
  int valid = 0;
  int longest_gap = 0;
  int gap = 0;
  for (int block = 0; block < 100000; ++block) {
    if (assigner.next_is_valid()) {
      ++valid;
      longest_gap = std::max(longest_gap, gap);
      gap = 0;
    } else {
      ++gap;
    }
  }
  EXPECT_NEAR(valid, 1000, 1);
  EXPECT_LE(longest_gap, 100);  // never two valid blocks further apart than 1/f
}

TEST(SplitAssigner, SameSeedSameSplitOtherSeedOtherPlaces) {
  auto pattern = [](std::uint64_t seed) {
    SplitAssigner assigner(0.1, seed);
    std::vector<bool> blocks;
    for (int i = 0; i < 200; ++i)
      blocks.push_back(assigner.next_is_valid());
    return blocks;
  };
  EXPECT_EQ(pattern(7), pattern(7));
  EXPECT_NE(pattern(7), pattern(8));
}

TEST(SplitAssigner, ZeroFractionHoldsOutNothing) {
  SplitAssigner assigner(0.0, 1);
  for (int i = 0; i < 1000; ++i)
    EXPECT_FALSE(assigner.next_is_valid());
}

}  // namespace
}  // namespace genolm::data
