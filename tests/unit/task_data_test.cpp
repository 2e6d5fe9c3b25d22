// Labelled data for fine-tuning: label encoding and its errors, paired chains, stratified splits,
// length-sorted batches and padding.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "data/task_data.h"
#include "genolm/tokenizers/character.h"
#include "genolm/tokenizers/kmer.h"
#include "support/test_files.h"

namespace genolm::data {
namespace {

io::LabelledExample example(std::string id, std::vector<std::string> sequences,
                            std::vector<std::string> labels, std::uint64_t line) {
  return {std::move(id), std::move(sequences), std::move(labels), line};
}

TEST(TaskData, ClassesSortNumbersByValue) {
  const std::vector<io::LabelledExample> numbers = {example("a", {"ACGT"}, {"10"}, 2),
                                                    example("b", {"ACGT"}, {"2"}, 3),
                                                    example("c", {"ACGT"}, {"10"}, 4)};
  EXPECT_EQ(distinct_classes(numbers), (std::vector<std::string>{"2", "10"}));
  const std::vector<io::LabelledExample> words = {example("a", {"ACGT"}, {"N"}, 2),
                                                  example("b", {"ACGT"}, {"EI"}, 3)};
  EXPECT_EQ(distinct_classes(words), (std::vector<std::string>{"EI", "N"}));
}

TEST(TaskData, EncodesLabelsStrandsAndPairs) {
  const tokenizers::KmerTokenizer kmer(3, 1);
  LabelScheme scheme{.kind = TaskKind::classification, .classes = {"no", "yes"}};
  const auto encoded = encode_examples({example("a", {"acgtac"}, {"yes"}, 2)}, kmer, scheme,
                                       "t.tsv", {.reverse_complement = true});
  ASSERT_EQ(encoded.size(), 1u);
  EXPECT_EQ(encoded.classes, (std::vector<std::int64_t>{1}));
  EXPECT_EQ(encoded.tokens[0], kmer.encode("ACGTAC"));  // lowercase reads as uppercase
  EXPECT_EQ(encoded.rc_tokens[0], kmer.encode("GTACGT"));

  const auto protein = tokenizers::CharacterTokenizer::protein();
  LabelScheme regression{.kind = TaskKind::regression, .targets = {"y"}};
  const auto pair = encode_examples({example("p", {"QVQ", "DIQ"}, {"-2.5e1"}, 2)}, protein,
                                    regression, "t.tsv", {});
  EXPECT_EQ(pair.tokens[0], protein.encode_pair("QVQ", "DIQ"));
  EXPECT_EQ(pair.targets, (std::vector<float>{-25.f}));
}

// A backward model reads each sequence's tokens last to first, on both strands.
TEST(TaskData, BackwardReadingReversesTheTokensOfBothStrands) {
  const tokenizers::KmerTokenizer kmer(3, 1);
  LabelScheme scheme{.kind = TaskKind::classification, .classes = {"no", "yes"}};
  const auto backward = encode_examples({example("a", {"AACGTTG"}, {"no"}, 2)}, kmer, scheme,
                                        "t.tsv", {.reverse_complement = true, .backward = true});
  auto forward = kmer.encode("AACGTTG"), other = kmer.encode("CAACGTT");
  ASSERT_GT(forward.size(), 2u);
  std::reverse(forward.begin(), forward.end());
  std::reverse(other.begin(), other.end());
  EXPECT_EQ(backward.tokens[0], forward);
  EXPECT_EQ(backward.rc_tokens[0], other);
}

TEST(TaskData, LabelErrorsNameFileLineAndValue) {
  const tokenizers::KmerTokenizer kmer(3, 1);
  LabelScheme scheme{.kind = TaskKind::classification, .classes = {"EI", "N"}};
  EXPECT_EQ(test::error_of([&] {
              encode_examples({example("x", {"ACGTA"}, {"IE"}, 7)}, kmer, scheme, "test.tsv", {});
            }),
            "test.tsv line 7 (record 'x'): unknown class 'IE' (the model knows: EI, N)");
  LabelScheme regression{.kind = TaskKind::regression, .targets = {"tm"}};
  EXPECT_EQ(test::error_of([&] {
              encode_examples({example("x", {"ACGTA"}, {"1.5x"}, 3)}, kmer, regression, "v.csv",
                              {});
            }),
            "v.csv line 3 (record 'x'): regression target 'tm' is '1.5x', not a number");
  EXPECT_NE(test::error_of([&] {
              encode_examples({example("x", {"AC"}, {"N"}, 4)}, kmer, scheme, "s.tsv", {});
            }).find("too short to give a single token"),
            std::string::npos);
}

TEST(TaskData, StratifiedSplitKeepsClassSharesAndIsSeeded) {
  std::vector<std::int64_t> strata;
  for (int i = 0; i < 300; ++i)
    strata.push_back(i < 200 ? 0 : 1);
  const auto split = stratified_split(strata, 0.1, 0.2, 5);
  EXPECT_EQ(split.valid.size(), 30u);
  EXPECT_EQ(split.test.size(), 60u);
  EXPECT_EQ(split.train.size(), 210u);
  const auto ones = [&](const std::vector<std::size_t>& part) {
    return std::count_if(part.begin(), part.end(), [&](std::size_t i) { return strata[i] == 1; });
  };
  EXPECT_EQ(ones(split.valid), 10);
  EXPECT_EQ(ones(split.test), 20);
  std::set<std::size_t> all(split.train.begin(), split.train.end());
  all.insert(split.valid.begin(), split.valid.end());
  all.insert(split.test.begin(), split.test.end());
  EXPECT_EQ(all.size(), 300u);  // disjoint and complete
  EXPECT_EQ(stratified_split(strata, 0.1, 0.2, 5).test, split.test);
  EXPECT_NE(stratified_split(strata, 0.1, 0.2, 6).test, split.test);
}

TEST(TaskData, BatchesCoverEveryExampleOnceWithSimilarLengths) {
  std::vector<std::size_t> lengths;
  for (std::size_t i = 0; i < 1000; ++i)
    lengths.push_back(10 + (i * 7919) % 300);
  std::mt19937_64 rng(1);
  const auto batches = sortish_batches(lengths, 32, rng);
  std::vector<std::size_t> seen;
  for (const auto& batch : batches)
    seen.insert(seen.end(), batch.begin(), batch.end());
  std::sort(seen.begin(), seen.end());
  ASSERT_EQ(seen.size(), 1000u);
  for (std::size_t i = 0; i < seen.size(); ++i)
    EXPECT_EQ(seen[i], i);
  EXPECT_EQ(lengths[batches[0][0]], 309u);  // the longest batch first
  const auto sorted = sorted_batches(lengths, 32);
  EXPECT_EQ(sorted.size(), 32u);
  EXPECT_GE(lengths[sorted[0].back()], lengths[sorted[1].front()]);

  const std::vector<std::int32_t> a = {7, 8, 9}, b = {5};
  const auto padded = pad_batch({&a, &b});
  EXPECT_EQ(padded.ids, (std::vector<std::int64_t>{7, 8, 9, 5, 0, 0}));
  EXPECT_EQ(padded.lengths, (std::vector<std::int64_t>{3, 1}));
}

}  // namespace
}  // namespace genolm::data
