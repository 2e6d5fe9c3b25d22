// Cross-validation folds (data/cv_folds.h): they partition the rows, keep each class's share, are
// the same for the same seed, and follow a fold column's values.
#include <gtest/gtest.h>

#include <cmath>

#include "data/cv_folds.h"
#include "support/test_files.h"

namespace genolm::data {
namespace {

// Three classes of unequal sizes (70, 25, 8), interleaved as a file might hold them.
std::vector<std::int64_t> uneven_classes() {
  std::vector<std::int64_t> strata;
  for (int i = 0; i < 103; ++i)
    strata.push_back(i % 4 == 1 ? 1 : i % 13 == 6 ? 2 : 0);
  return strata;
}

TEST(CvFolds, EveryRowIsInExactlyOneTestFold) {
  const auto strata = uneven_classes();
  const auto folds = stratified_folds(strata, 5, 42);
  ASSERT_EQ(folds.folds, 5u);
  ASSERT_EQ(folds.fold_of.size(), strata.size());
  std::vector<int> seen(strata.size(), 0);
  std::size_t total = 0;
  for (std::size_t f = 0; f < folds.folds; ++f) {
    const auto rows = folds.rows_of(f);
    EXPECT_TRUE(std::is_sorted(rows.begin(), rows.end()));
    // 103 rows in 5 folds: 20 or 21 each.
    EXPECT_GE(rows.size(), 20u);
    EXPECT_LE(rows.size(), 21u);
    for (const auto row : rows)
      ++seen[row];
    total += rows.size();
  }
  EXPECT_EQ(total, strata.size());
  EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
}

TEST(CvFolds, EachFoldHoldsItsShareOfEveryClassWithinOneRow) {
  const auto strata = uneven_classes();
  std::vector<double> sizes(3, 0);
  for (const auto s : strata)
    ++sizes[static_cast<std::size_t>(s)];
  for (const std::size_t k : {2u, 3u, 5u, 10u}) {
    const auto folds = stratified_folds(strata, k, 7);
    for (std::size_t f = 0; f < k; ++f) {
      std::vector<double> counts(3, 0);
      for (const auto row : folds.rows_of(f))
        ++counts[static_cast<std::size_t>(strata[row])];
      for (std::size_t c = 0; c < 3; ++c) {
        EXPECT_LT(std::abs(counts[c] - sizes[c] / static_cast<double>(k)), 1.0)
            << "class " << c << ", fold " << f << " of " << k;
      }
    }
  }
}

TEST(CvFolds, TheSameSeedGivesTheSameFoldsAndAnotherShuffles) {
  const auto strata = uneven_classes();
  EXPECT_EQ(stratified_folds(strata, 4, 3).fold_of, stratified_folds(strata, 4, 3).fold_of);
  EXPECT_NE(stratified_folds(strata, 4, 3).fold_of, stratified_folds(strata, 4, 4).fold_of);
}

TEST(CvFolds, TooFewRowsOrFoldsAreClearErrors) {
  EXPECT_NE(test::error_of([] {
              stratified_folds({0, 1, 0}, 4, 1);
            }).find("4 folds"),
            std::string::npos);
  EXPECT_NE(test::error_of([] {
              stratified_folds({0, 1, 0}, 1, 1);
            }).find("2 folds at least"),
            std::string::npos);
}

TEST(CvFolds, AColumnsValuesAreTheFoldsInTheirOrder) {
  // Numbers order by value: "2" is fold 1, "10" fold 2.
  const auto folds = folds_from_values({"10", "2", "2", "10", "2"}, "group");
  ASSERT_EQ(folds.folds, 2u);
  EXPECT_EQ(folds.values, (std::vector<std::string>{"2", "10"}));
  EXPECT_EQ(folds.fold_of, (std::vector<std::size_t>{1, 0, 0, 1, 0}));
  EXPECT_EQ(folds.rows_of(1), (std::vector<std::size_t>{0, 3}));

  const auto words = folds_from_values({"b", "a", "c"}, "group");
  EXPECT_EQ(words.fold_of, (std::vector<std::size_t>{1, 0, 2}));

  const auto one = test::error_of([] { folds_from_values({"x", "x"}, "group"); });
  EXPECT_NE(one.find("'group' holds 1 distinct value"), std::string::npos) << one;
}

}  // namespace
}  // namespace genolm::data
