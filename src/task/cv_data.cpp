#include "task/cv_data.h"

#include <map>

#include "data/task_data.h"
#include "genolm/error.h"
#include "util/log.h"

namespace genolm::task {
namespace {

// The fold column's value of every record, taken off the end of its labels (it was read as one
// more label column, so that tables and FASTA headers both carry it).
std::vector<std::string> take_fold_values(std::vector<io::LabelledExample>& records,
                                          const std::filesystem::path& file,
                                          const std::string& column) {
  std::vector<std::string> values;
  values.reserve(records.size());
  for (auto& record : records) {
    if (record.labels.back().empty()) {
      // A table's empty field stops the reader; a FASTA header's "fold=" arrives here.
      throw Error(file.string() + " line " + std::to_string(record.line) + " (record '" +
                  record.id + "'): empty value in the fold column '" + column +
                  "' (every row needs its fold)");
    }
    values.push_back(std::move(record.labels.back()));
    record.labels.pop_back();
  }
  return values;
}

// Strata with fewer rows than folds leave some folds without them: worth a line in the log.
void warn_about_small_strata(const std::vector<std::int64_t>& strata, std::size_t folds) {
  std::map<std::int64_t, std::size_t> sizes;
  for (const auto stratum : strata)
    ++sizes[stratum];
  for (const auto& [stratum, size] : sizes) {
    if (size < folds) {
      log("finetune")
          ->warn("stratum {} has {} row(s) for {} folds: some folds test on none of it", stratum,
                 size, folds);
    }
  }
}

}  // namespace

bool cross_validation_asked(const config::Recipe& recipe) {
  return recipe.integer("task.cv_folds") >= 2 || !recipe.string("task.fold_column").empty();
}

void check_cross_validation_recipe(const config::Recipe& recipe) {
  if (!recipe.string("task.test").empty()) {
    throw Error("task.test names " + recipe.string("task.test") +
                ", but cross-validation (task.cv_folds, task.fold_column) tests on each fold of "
                "task.train in turn: leave task.test empty");
  }
  if (recipe.integer("task.cv_folds") == 1 && !recipe.string("task.fold_column").empty()) {
    throw Error("task.cv_folds is 1 beside task.fold_column '" + recipe.string("task.fold_column") +
                "': the column gives the folds; leave task.cv_folds at 0");
  }
}

CrossValidationData::CrossValidationData(const config::Recipe& recipe,
                                         const tokenizers::Tokenizer& tokenizer, bool backward)
    : recipe_(recipe) {
  require_training_file(recipe);
  check_cross_validation_recipe(recipe);
  train_file_ = recipe.string("task.train");
  kind_ = recipe.string("task.kind");
  columns_ = task_columns(recipe, tokenizer);
  const std::string& fold_column = recipe.string("task.fold_column");
  auto read_columns = columns_;
  if (!fold_column.empty()) read_columns.label_columns.push_back(fold_column);
  records_ = io::read_labelled(train_file_, read_columns);
  const auto fold_values = fold_column.empty()
                               ? std::vector<std::string>{}
                               : take_fold_values(records_, train_file_, fold_column);

  const auto task = task_kind(kind_).from_recipe(recipe, records_, train_file_);
  const auto encode = task_encoding(recipe, backward);
  all_ = data::encode_examples(records_, tokenizer, task->scheme(), train_file_, encode);
  strata_ = task->strata(all_);
  if (!recipe.string("task.valid").empty()) {
    const std::filesystem::path valid_file = recipe.string("task.valid");
    valid_file_ = data::encode_examples(io::read_labelled(valid_file, columns_), tokenizer,
                                        task->scheme(), valid_file, encode);
  }

  const auto asked =
      static_cast<std::size_t>(std::max<std::int64_t>(0, recipe.integer("task.cv_folds")));
  if (fold_column.empty()) {
    assignment_ = data::stratified_folds(strata_, asked,
                                         static_cast<std::uint64_t>(recipe.integer("run.seed")));
    warn_about_small_strata(strata_, asked);
  } else {
    assignment_ = data::folds_from_values(fold_values, fold_column);
    if (asked >= 2 && asked != assignment_.folds) {
      throw Error("task.fold_column '" + fold_column + "' of " + train_file_.string() + " holds " +
                  std::to_string(assignment_.folds) + " distinct values, but task.cv_folds is " +
                  std::to_string(asked) + ": make them agree, or leave task.cv_folds at 0");
    }
  }
}

FinetuneData CrossValidationData::fold(std::size_t fold) const {
  FinetuneData data;
  data.columns = columns_;
  data.task = task_kind(kind_).from_recipe(recipe_, records_, train_file_);
  std::vector<std::size_t> test, rest;
  for (std::size_t row = 0; row < all_.size(); ++row)
    (assignment_.fold_of[row] == fold ? test : rest).push_back(row);
  data.test = select_examples(all_, test);
  if (valid_file_) {
    data.valid = *valid_file_;
    data.train = select_examples(all_, rest);
  } else {
    std::vector<std::int64_t> strata;
    for (const std::size_t row : rest)
      strata.push_back(strata_[row]);
    const auto split =
        data::stratified_split(strata, recipe_.number("task.valid_fraction"), 0.0,
                               static_cast<std::uint64_t>(recipe_.integer("run.seed")));
    // The split's indices count the rows outside the fold: back to rows of the table.
    const auto rows_of = [&](const std::vector<std::size_t>& positions) {
      std::vector<std::size_t> rows;
      for (const std::size_t position : positions)
        rows.push_back(rest[position]);
      return rows;
    };
    data.valid = select_examples(all_, rows_of(split.valid));
    data.train = select_examples(all_, rows_of(split.train));
  }
  check_and_fit(data, train_file_);
  return data;
}

}  // namespace genolm::task
