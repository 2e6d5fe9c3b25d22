#include "data/cv_folds.h"

#include <algorithm>
#include <map>
#include <random>

#include "data/task_data.h"
#include "genolm/error.h"

namespace genolm::data {

std::vector<std::size_t> FoldAssignment::rows_of(std::size_t fold) const {
  std::vector<std::size_t> rows;
  for (std::size_t row = 0; row < fold_of.size(); ++row)
    if (fold_of[row] == fold) rows.push_back(row);
  return rows;
}

FoldAssignment stratified_folds(const std::vector<std::int64_t>& strata, std::size_t folds,
                                std::uint64_t seed) {
  if (folds < 2) {
    throw Error("cross-validation needs 2 folds at least, got " + std::to_string(folds));
  }
  if (folds > strata.size()) {
    throw Error("cross-validation with " + std::to_string(folds) +
                " folds needs as many rows, but " + "the table has " +
                std::to_string(strata.size()));
  }
  std::vector<std::int64_t> names = strata;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::mt19937_64 rng(seed);
  FoldAssignment out;
  out.folds = folds;
  out.fold_of.assign(strata.size(), 0);
  std::size_t turn = 0;  // carries on across strata, so the folds' sizes stay within one row
  for (const std::int64_t name : names) {
    std::vector<std::size_t> members;
    for (std::size_t i = 0; i < strata.size(); ++i)
      if (strata[i] == name) members.push_back(i);
    std::shuffle(members.begin(), members.end(), rng);
    for (const std::size_t row : members) {
      out.fold_of[row] = turn;
      turn = (turn + 1) % folds;
    }
  }
  return out;
}

FoldAssignment folds_from_values(const std::vector<std::string>& values,
                                 const std::string& column) {
  FoldAssignment out;
  out.values = distinct_values(values);
  out.folds = out.values.size();
  if (out.folds < 2) {
    throw Error("the fold column '" + column + "' holds " + std::to_string(out.folds) +
                " distinct value(s): cross-validation needs 2 folds at least");
  }
  std::map<std::string, std::size_t, std::less<>> index;
  for (std::size_t fold = 0; fold < out.folds; ++fold)
    index.emplace(out.values[fold], fold);
  out.fold_of.reserve(values.size());
  for (const auto& value : values)
    out.fold_of.push_back(index.at(value));
  return out;
}

}  // namespace genolm::data
