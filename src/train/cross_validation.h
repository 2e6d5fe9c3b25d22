#pragma once
// k-fold cross-validation (task.cv_folds, task.fold_column): K ordinary fine-tunes, one per fold
// (task/cv_data.h says what each trains, validates and tests on), each in a run folder of its own
// inside the cross-validation's (runs/NAME/fold_1 ... fold_K: each loads with --model like any
// fine-tuned run), then the summary (report/cv_summary.h): cv.json, cv.tsv, report.html and the
// out-of-fold predictions in cv_predictions.tsv. Folds run one after another on every rank of the
// job. A resumed cross-validation skips the folds that finished, resumes the one that was
// interrupted and starts the rest.

#include <filesystem>

#include "config/recipe.h"
#include "dist/communicator.h"
#include "train/encoder_start.h"
#include "train/session.h"

namespace genolm::train {

struct CrossValidationRun {
  const config::Recipe* recipe = nullptr;
  std::filesystem::path recipe_file;  // names the run when run.name is empty
  bool resume = false;
  const EncoderStart* start = nullptr;
  // The data-parallel job this process is a rank of; null: a single process.
  dist::Communicator* comm = nullptr;
};

// Throws genolm::Error for a recipe that contradicts cross-validation, bad input (as fine-tuning
// does), a cross-validation folder whose folds have trained when `resume` is off, and what a
// fold's run throws.
RunOutcome cross_validate(const CrossValidationRun& run);

}  // namespace genolm::train
