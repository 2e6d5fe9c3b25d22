#include "train/cross_validation.h"

#include <nlohmann/json.hpp>

#include "genolm/error.h"
#include "report/cv_summary.h"
#include "run/run_folder.h"
#include "task/cv_data.h"
#include "train/finetune_trainer.h"
#include "train/rank_state.h"
#include "util/files.h"
#include "util/log.h"

namespace genolm::train {
namespace {

// A fold's run is over once its run.json says so (its test row is then in run.json too).
bool finished(const run::RunLayout& fold) {
  if (!std::filesystem::exists(fold.run_json())) return false;
  const auto json = read_json_file(fold.run_json());
  return json.is_object() && json.value("status", "") == "finished";
}

// The recipe of fold `number`: the cross-validation's, run in the folder fold_<number> inside
// the cross-validation's folder.
config::Recipe fold_recipe(const config::Recipe& recipe, const run::RunLayout& layout,
                           std::size_t number) {
  config::Recipe fold = recipe;
  fold.set_value("run.dir", layout.dir().string(), "cross-validation");
  fold.set_value("run.name", layout.cv_fold(number).name(), "cross-validation");
  return fold;
}

// A new cross-validation must not start over folds that trained: their results would mix.
void refuse_trained_folds(const run::RunLayout& layout) {
  for (std::size_t number = 1; std::filesystem::exists(layout.cv_fold(number).dir()); ++number) {
    if (run::has_trained(layout.cv_fold(number))) {
      throw Error("run folder " + layout.dir().string() + " holds a cross-validation whose " +
                  layout.cv_fold(number).name() +
                  " has trained: continue it with --resume, or set another run.name");
    }
  }
}

nlohmann::json about(const task::CrossValidationData& data, const config::Recipe& recipe) {
  const std::string& column = recipe.string("task.fold_column");
  return {{"kind", data.kind()},
          {"train", data.train_file().string()},
          {"rows", data.rows()},
          {"assignment", column.empty() ? "stratified by the task's strata, seed " +
                                              std::to_string(recipe.integer("run.seed"))
                                        : "the values of the column '" + column + "'"}};
}

report::CvFold fold_result(const run::RunLayout& fold_layout, std::size_t number,
                           const task::CrossValidationData& data) {
  report::CvFold fold;
  fold.number = number;
  fold.rows = data.assignment().rows_of(number - 1);
  if (!data.assignment().values.empty()) fold.value = data.assignment().values[number - 1];
  const auto run_json = read_json_file(fold_layout.run_json());
  const auto task = run_json.find("task");
  if (task == run_json.end() || !task->is_object() || !task->contains("test") ||
      !task->at("test").is_object()) {
    throw Error(fold_layout.run_json().string() +
                " has no test row (task.test): the fold did not finish testing");
  }
  fold.test = task->at("test");
  return fold;
}

// One line per top-level metric: mean and sd over the folds.
void log_summary(const std::vector<report::CvFold>& folds) {
  for (const auto& metric : report::cv_metrics(folds)) {
    if (metric.name.find('.') != std::string::npos) continue;
    log("cv")->info("test {}: {:.4f} \u00b1 {:.4f} (mean \u00b1 sd over {} folds)", metric.name,
                    metric.mean, metric.sd, metric.finite);
  }
}

}  // namespace

RunOutcome cross_validate(const CrossValidationRun& run) {
  const config::Recipe& recipe = *run.recipe;
  task::check_cross_validation_recipe(recipe);
  auto& comm = job_communicator(run.comm);
  const bool writer = comm.rank() == 0;
  const auto layout = run::run_layout(recipe, run.recipe_file);
  if (writer) {
    if (!run.resume) refuse_trained_folds(layout);  // before anything is replaced
    run::open_run_folder(recipe, run.recipe_file, config::Command::finetune, run.resume);
  }
  comm.barrier();

  const task::CrossValidationData data(recipe, *run.start->tokenizer, run.start->backward());
  const std::size_t folds = data.folds();
  log("cv")->info("{}-fold cross-validation of {} rows of {} ({})", folds, data.rows(),
                  data.train_file().string(),
                  about(data, recipe).at("assignment").get<std::string>());
  std::vector<report::CvFold> results;
  for (std::size_t number = 1; number <= folds; ++number) {
    const auto fold_layout = layout.cv_fold(number);
    comm.barrier();  // the previous fold's files are whole before any rank looks at this one
    if (run.resume && finished(fold_layout)) {
      log("cv")->info("fold {}/{} had finished: skipped", number, folds);
      results.push_back(fold_result(fold_layout, number, data));
      continue;
    }
    const bool resume_fold = run.resume && run::has_trained(fold_layout);
    const auto recipe_of_fold = fold_recipe(recipe, layout, number);
    log("cv")->info("fold {}/{}: {} test rows{}", number, folds,
                    data.assignment().rows_of(number - 1).size(), resume_fold ? " (resuming)" : "");
    comm.barrier();  // every rank has decided before rank 0 changes the fold's folder
    if (writer) {
      run::open_run_folder(recipe_of_fold, {}, config::Command::finetune, resume_fold);
      if (!std::filesystem::exists(fold_layout.tokenizer()))
        run.start->tokenizer->save(fold_layout.tokenizer());
    }
    comm.barrier();
    const auto fold_data = data.fold(number - 1);
    const RunContext context{
        .layout = fold_layout, .recipe = &recipe_of_fold, .resume = resume_fold, .comm = run.comm};
    const RunOutcome outcome =
        finetune({.context = context, .data = &fold_data, .start = run.start});
    if (writer) remove_log_file(fold_layout.log().string());
    if (outcome == RunOutcome::interrupted) {
      log("cv")->warn("stopped in fold {}/{}: continue with --resume", number, folds);
      return outcome;
    }
    if (writer) results.push_back(fold_result(fold_layout, number, data));
  }
  if (writer) {
    report::write_cv_summary(layout, results, about(data, recipe));
    log_summary(results);
    log("cv")->info("finished: {}", layout.report().string());
  }
  return RunOutcome::finished;
}

}  // namespace genolm::train
