// genolm finetune: recipe -> encoder and tokenizer (pretrained or new) -> run folder -> labelled
// splits -> ULMFiT fine-tuning with a pooling head; with task.cv_folds or task.fold_column, one
// such fine-tune per fold of a cross-validation (train/cross_validation.h).
#include <ATen/Parallel.h>

#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/data_parallel.h"
#include "run/pretrained_run.h"
#include "run/run_folder.h"
#include "task/cv_data.h"
#include "task/finetune_data.h"
#include "train/cross_validation.h"
#include "train/encoder_start.h"
#include "train/finetune_trainer.h"
#include "util/log.h"

namespace genolm::cli {
namespace {

struct FinetuneFlags {
  RecipeOptions recipe;
  bool resume = false;
};

int run_finetune(const FinetuneFlags& flags, const GlobalOptions& globals) {
  const config::Recipe recipe = flags.recipe.resolve(config::Command::finetune);
  if (flags.recipe.dump) {
    std::cout << run::dump_recipe(recipe, config::Command::finetune);
    return 0;
  }
  const int threads = globals.resolved_threads();
  at::set_num_threads(threads);
  task::require_training_file(recipe);
  const bool cross_validation = task::cross_validation_asked(recipe);
  if (cross_validation) task::check_cross_validation_recipe(recipe);
  const auto start = train::encoder_start(recipe, threads);

  auto job = join_data_parallel(recipe, globals);
  if (cross_validation) {
    const auto outcome = train::cross_validate({.recipe = &recipe,
                                                .recipe_file = flags.recipe.config_file,
                                                .resume = flags.resume,
                                                .start = &start,
                                                .comm = job.comm.get()});
    if (job.writer()) {
      std::cout << "report: " << run::run_layout(recipe, flags.recipe.config_file).report().string()
                << "\n";
    }
    return outcome == train::RunOutcome::finished ? 0 : 130;
  }
  const auto layout = job.writer() ? run::open_run_folder(recipe, flags.recipe.config_file,
                                                          config::Command::finetune, flags.resume)
                                   : run::run_layout(recipe, flags.recipe.config_file);
  if (job.writer()) {
    log("finetune")
        ->info("run folder {} ({})", layout.dir().string(), flags.resume ? "resuming" : "new run");
    if (!std::filesystem::exists(layout.tokenizer())) start.tokenizer->save(layout.tokenizer());
  }
  job.comm->barrier();  // the run folder exists for every rank from here

  const auto data = task::load_finetune_data(recipe, *start.tokenizer, start.backward());
  const train::RunContext context{
      .layout = layout, .recipe = &recipe, .resume = flags.resume, .comm = job.comm.get()};
  const auto outcome = train::finetune({.context = context, .data = &data, .start = &start});
  if (job.writer()) std::cout << "report: " << layout.report().string() << "\n";
  return outcome == train::RunOutcome::finished ? 0 : 130;
}

}  // namespace

void register_finetune(CLI::App& app, Action& action, const GlobalOptions& globals) {
  auto flags = std::make_shared<FinetuneFlags>();
  auto* command =
      app.add_subcommand("finetune", "fine-tune for classification or regression (ULMFiT)");
  flags->recipe.add_to(*command);
  command->add_flag("--resume", flags->resume,
                    "continue the run named by the recipe from its latest checkpoint");
  command->callback([&action, &globals, flags] {
    action = [&globals, flags] { return run_finetune(*flags, globals); };
  });
}

}  // namespace genolm::cli
