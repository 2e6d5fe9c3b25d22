#pragma once
// Which rows of a table each fold of k-fold cross-validation tests on: a pure function of the
// rows' strata (or of a column's values) and the seed, so a resumed cross-validation finds the
// same folds and a test can check them.
//
// Stratified folds (sklearn's StratifiedKFold, shuffled): each stratum's rows are shuffled, then
// dealt to the folds in turn, the turn carrying on from one stratum to the next. Every fold then
// holds floor or ceil of n_s / K rows of each stratum s, and floor or ceil of n / K rows in all.

#include <cstdint>
#include <string>
#include <vector>

namespace genolm::data {

struct FoldAssignment {
  std::vector<std::size_t> fold_of;  // per row: its fold, 0-based
  // Per fold: the fold column's value it stands for; empty for stratified folds.
  std::vector<std::string> values;
  std::size_t folds = 0;

  // The rows of fold `fold`, in row order.
  std::vector<std::size_t> rows_of(std::size_t fold) const;
};

// K stratified folds of rows 0..strata.size()-1; the shuffle depends on `seed` alone. Throws
// genolm::Error for K < 2 or more folds than rows.
FoldAssignment stratified_folds(const std::vector<std::int64_t>& strata, std::size_t folds,
                                std::uint64_t seed);

// One fold per distinct value of a column (numbers ordered by value, words by text: "2" is fold
// 1 before "10"). `column` names the column in errors: it needs two values at least.
FoldAssignment folds_from_values(const std::vector<std::string>& values, const std::string& column);

}  // namespace genolm::data
