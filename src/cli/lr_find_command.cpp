// genolm lr-find: recipe (pretraining or fine-tuning) -> its model and training batches, as its run
// would start -> a sweep of exponentially growing learning rates, one mini-batch each -> the loss
// curve, a suggested rate, lr_find.html. fastai's learning-rate finder; the weights are not saved.
#include <ATen/Parallel.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <utility>

#include "cli/commands.h"
#include "data/corpus_from_recipe.h"
#include "data/token_corpus.h"
#include "genolm/error.h"
#include "genolm/tokenizers/tokenizer.h"
#include "report/lr_find_report.h"
#include "run/pretrained_run.h"
#include "run/run_folder.h"
#include "task/finetune_data.h"
#include "train/encoder_start.h"
#include "train/finetune_trainer.h"
#include "train/lm_trainer.h"
#include "train/lr_find_trainer.h"
#include "util/files.h"
#include "util/log.h"

namespace genolm::cli {
namespace {

namespace fs = std::filesystem;

struct LrFindFlags {
  RecipeOptions recipe;
  std::string command = "auto";
  train::LrFindOptions sweep;
  std::string out;
};

// A recipe that sets a key of [task], [encoder] or [finetune] is a fine-tuning recipe; any other
// is a pretraining one.
config::Command recipe_kind(const LrFindFlags& flags) {
  if (flags.command == "pretrain") return config::Command::pretrain;
  if (flags.command == "finetune") return config::Command::finetune;
  config::Recipe loose;  // read without the per-command check, only to look at its keys
  if (!flags.recipe.config_file.empty()) loose.merge_file(flags.recipe.config_file);
  for (const auto& assignment : flags.recipe.assignments)
    loose.set(assignment);
  for (const auto& spec : config::recipe_schema()) {
    const bool finetune_section = spec.key.starts_with("task.") ||
                                  spec.key.starts_with("encoder.") ||
                                  spec.key.starts_with("finetune.");
    if (finetune_section && loose.is_set(spec.key)) return config::Command::finetune;
  }
  return config::Command::pretrain;
}

// --out, else <run.dir>/lr_find_<run name>: beside the training run's folder, never inside it (nor
// inside any other run folder), so a run folder holds only what its run wrote.
fs::path output_folder(const LrFindFlags& flags, const config::Recipe& recipe) {
  const auto run = run::run_layout(recipe, flags.recipe.config_file);
  const fs::path out =
      flags.out.empty() ? run.dir().parent_path() / ("lr_find_" + run.name()) : fs::path(flags.out);
  const auto absolute = fs::weakly_canonical(fs::absolute(out));
  if (absolute == fs::weakly_canonical(fs::absolute(run.dir()))) {
    throw Error("--out " + out.string() + " is the recipe's run folder: lr-find writes beside it");
  }
  for (auto dir = absolute; !dir.empty(); dir = dir.parent_path()) {
    const run::RunLayout layout(dir);
    if (fs::exists(layout.run_json()) || fs::exists(layout.model_card())) {
      throw Error("--out " + out.string() + " lies inside the run folder " + dir.string() +
                  ": lr-find writes beside run folders, never into one");
    }
    if (dir == dir.parent_path()) break;
  }
  return out;
}

// The whole file; empty when it cannot be read.
std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The corpus a pretraining recipe trains on: data.corpus, else built into <out>/corpus and reused
// while the keys that make it (and init.from) stay the same.
fs::path corpus_folder(const config::Recipe& recipe, const fs::path& out, int threads,
                       const tokenizers::Tokenizer* parent_tokenizer) {
  if (!recipe.string("data.corpus").empty()) return recipe.string("data.corpus");
  const fs::path dir = out / "corpus";
  const fs::path stamp = out / "corpus_recipe.toml";
  const std::string keys = recipe.dump(config::Command::corpus);
  const bool cached = fs::exists(dir / data::kCorpusManifestName) && read_text(stamp) == keys;
  if (!cached) {
    log("lr-find")->info("building the corpus in {}", dir.string());
    data::build_corpus_from_recipe(recipe, dir, threads, /*overwrite=*/true, parent_tokenizer);
    write_file_atomically(stamp, keys);
  } else {
    log("lr-find")->info("the corpus built for an earlier lr-find: {}", dir.string());
  }
  return dir;
}

train::LrCurve sweep_language_model(const config::Recipe& recipe, const fs::path& out,
                                    const train::LrFindOptions& options, int threads) {
  // ULMFiT's stage 2 starts from init.from's language model and reads with its tokenizer.
  std::optional<run::PretrainedRun> parent;
  std::unique_ptr<tokenizers::Tokenizer> parent_tokenizer;
  if (!recipe.string("init.from").empty()) {
    parent = run::open_pretrained_run(recipe, run::language_model_use("genolm lr-find"));
    parent_tokenizer = run::load_tokenizer(*parent);
  }
  const data::TokenCorpus corpus(corpus_folder(recipe, out, threads, parent_tokenizer.get()));
  const auto tokenizer = tokenizers::load_tokenizer(corpus.tokenizer_dir());
  const train::PretrainRun run{.context = {.layout = run::RunLayout(out), .recipe = &recipe},
                               .corpus = &corpus,
                               .tokenizer = tokenizer.get(),
                               .init = parent ? &*parent : nullptr};
  train::LrCurve curve;
  train::probe_language_model(
      run, [&](train::LossProbe& probe) { curve = train::find_learning_rate(probe, options); });
  return curve;
}

train::LrCurve sweep_classifier(const config::Recipe& recipe, const fs::path& out,
                                const train::LrFindOptions& options, int threads) {
  task::require_training_file(recipe);
  const auto start = train::encoder_start(recipe, threads);
  const auto data = task::load_finetune_data(recipe, *start.tokenizer, start.backward());
  const train::FinetuneRun run{.context = {.layout = run::RunLayout(out), .recipe = &recipe},
                               .data = &data,
                               .start = &start};
  train::LrCurve curve;
  train::probe_classifier(
      run, [&](train::LossProbe& probe) { curve = train::find_learning_rate(probe, options); });
  return curve;
}

std::string rate(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2e", value);
  return text;
}

int run_lr_find(const LrFindFlags& flags, const GlobalOptions& globals) {
  train::check_lr_find_options(flags.sweep);
  const config::Command kind = recipe_kind(flags);
  const config::Recipe recipe = flags.recipe.resolve(kind);
  if (flags.recipe.dump) {
    std::cout << recipe.dump(kind);
    return 0;
  }
  const int threads = globals.resolved_threads();
  at::set_num_threads(threads);
  const fs::path out = output_folder(flags, recipe);
  fs::create_directories(out);
  const bool finetune = kind == config::Command::finetune;
  log("lr-find")->info("{} recipe: {} steps from lr {:.1e} to {:.1e}; writing {}",
                       finetune ? "fine-tuning" : "pretraining", flags.sweep.steps,
                       flags.sweep.start_lr, flags.sweep.end_lr, out.string());

  train::LrCurve curve = finetune ? sweep_classifier(recipe, out, flags.sweep, threads)
                                  : sweep_language_model(recipe, out, flags.sweep, threads);
  const auto suggestions = train::suggest_learning_rates(curve, flags.sweep.steps);
  const report::LrFindReport report{
      .name = run::run_name(recipe, flags.recipe.config_file),
      .command = finetune ? "finetune" : "pretrain",
      .recipe_file = flags.recipe.config_file,
      // With every group training, the swept rate is the top group's: the last stage's rate.
      .rate_key = finetune ? "finetune.stage_lrs (the last stage)" : "train.lr",
      .options = flags.sweep,
      .curve = std::move(curve),
      .suggestions = suggestions};
  report::write_lr_find_report(out, report);
  const auto page = (out / report::kLrFindPage).string();
  if (!report.suggestions) {
    throw Error("the loss was finite for fewer than 2 of " + std::to_string(report.curve.size()) +
                " steps: nothing to suggest (lower --start-lr or --end-lr; curve in " + page + ")");
  }
  const auto& s = *report.suggestions;
  std::cout << "suggested learning rate: " << rate(s.valley.lr) << " (valley), for "
            << report.rate_key << "\n"
            << "steepest descent: " << rate(s.steep.lr) << ", minimum / 10: " << rate(s.minimum.lr)
            << "\n"
            << "page: " << page << "\n";
  return 0;
}

}  // namespace

void register_lr_find(CLI::App& app, Action& action, const GlobalOptions& globals) {
  auto flags = std::make_shared<LrFindFlags>();
  auto* command = app.add_subcommand(
      "lr-find", "find a learning rate for a recipe (fastai's learning-rate finder)");
  flags->recipe.add_to(*command);
  command
      ->add_option("--command", flags->command,
                   "the recipe's kind: auto (finetune when it sets [task], [encoder] or "
                   "[finetune] keys), pretrain or finetune")
      ->check(CLI::IsMember({"auto", "pretrain", "finetune"}))
      ->capture_default_str();
  command->add_option("--steps", flags->sweep.steps, "mini-batches at most")->capture_default_str();
  command->add_option("--start-lr", flags->sweep.start_lr, "the first step's rate")
      ->capture_default_str();
  command->add_option("--end-lr", flags->sweep.end_lr, "the last step's rate")
      ->capture_default_str();
  command
      ->add_option("--out", flags->out,
                   "folder for lr_find.html, .json and .tsv (default: <run.dir>/lr_find_<name>)")
      ->type_name("DIR");
  command->callback([&action, &globals, flags] {
    action = [&globals, flags] { return run_lr_find(*flags, globals); };
  });
}

}  // namespace genolm::cli
