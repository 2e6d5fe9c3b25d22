#pragma once
// Cross-validation's data (task.cv_folds, task.fold_column): task.train read, checked and encoded
// once and its rows cut into folds (data/cv_folds.h: stratified by the task's strata and seeded by
// run.seed, or one fold per value of the fold column); then, for each fold, the splits of an
// ordinary fine-tune. In fold i the rows of fold i are the test split; the valid split is
// task.valid when it names a file, else task.valid_fraction of the other rows (stratified, seeded
// by run.seed); the rest train. Each fold has a task of its own, fitted to its own train split
// (class weights, target standardisation), so nothing of a fold's test rows reaches its training.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "config/recipe.h"
#include "data/cv_folds.h"
#include "genolm/tokenizers/tokenizer.h"
#include "task/finetune_data.h"

namespace genolm::task {

// Whether the recipe asks for cross-validation: task.cv_folds of 2 or more, or a task.fold_column.
bool cross_validation_asked(const config::Recipe& recipe);

// Throws genolm::Error for keys that contradict cross-validation: task.test naming a file (each
// fold is tested in turn), or a task.cv_folds of 1 beside a task.fold_column.
void check_cross_validation_recipe(const config::Recipe& recipe);

class CrossValidationData {
 public:
  // Throws genolm::Error as load_finetune_data does, and naming the file and line for an empty
  // fold-column value, for a task.cv_folds that disagrees with the fold column's values, and for
  // more folds than rows.
  CrossValidationData(const config::Recipe& recipe, const tokenizers::Tokenizer& tokenizer,
                      bool backward = false);

  std::size_t folds() const { return assignment_.folds; }
  std::size_t rows() const { return all_.size(); }
  const data::FoldAssignment& assignment() const { return assignment_; }
  const std::filesystem::path& train_file() const { return train_file_; }
  // The task kind's name ("classification", ...).
  const std::string& kind() const { return kind_; }

  // Fold `fold`'s (0-based) splits, its task fitted to its train split. Throws genolm::Error when
  // a split comes out too small to train on.
  FinetuneData fold(std::size_t fold) const;

 private:
  config::Recipe recipe_;
  std::filesystem::path train_file_;
  std::string kind_;
  io::LabelledSpec columns_;
  std::vector<io::LabelledExample> records_;  // the task's columns only (no fold column)
  data::TaskExamples all_;
  std::vector<std::int64_t> strata_;
  std::optional<data::TaskExamples> valid_file_;
  data::FoldAssignment assignment_;
};

}  // namespace genolm::task
