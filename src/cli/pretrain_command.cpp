// genolm pretrain: recipe -> run folder -> corpus (cached) -> language model.
#include <ATen/Parallel.h>

#include <cmath>
#include <csignal>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/data_parallel.h"
#include "cli/run_folder.h"
#include "data/corpus_from_recipe.h"
#include "data/token_corpus.h"
#include "genolm/error.h"
#include "genolm/tokenizers/tokenizer.h"
#include "models/model_factory.h"
#include "train/lm_trainer.h"
#include "util/files.h"
#include "util/log.h"

namespace genolm::cli {
namespace {

struct PretrainFlags {
  RecipeOptions recipe;
  bool resume = false;
};

// Keys a resumed run may change: how long it trains and how often it reports.
bool may_change_on_resume(const std::string& key) {
  return key == "train.max_steps" || key == "train.epochs" || key == "train.log_every" ||
         key == "train.eval_every" || key == "train.checkpoint_every" ||
         key == "train.keep_checkpoints" || key == "dist.timeout" || key == "dist.backend";
}

double stride_prior(const nlohmann::json& tokenizer_manifest) {
  const std::string kind = tokenizer_manifest.at("kind");
  if (kind == "kmer") {
    return tokenizer_manifest.at("parameters").at("stride").get<int>() * std::log(4.0);
  }
  if (kind == "nucleotide") return std::log(4.0);
  return std::nan("");
}

int run_pretrain(const PretrainFlags& flags, const GlobalOptions& globals) {
  const config::Recipe recipe = flags.recipe.resolve();
  if (flags.recipe.dump) {
    std::cout << recipe.dump();
    return 0;
  }
  const int threads = globals.resolved_threads();
  at::set_num_threads(threads);  // LibTorch starts with one thread here

  auto job = join_data_parallel(recipe, globals);
  const auto logger = log("pretrain");
  std::filesystem::path run_dir;
  std::filesystem::path corpus_dir = recipe.string("data.corpus");
  if (job.writer()) {
    run_dir = open_run_folder(recipe, flags.recipe, flags.resume, may_change_on_resume);
    logger->info("run folder {} ({})", run_dir.string(), flags.resume ? "resuming" : "new run");
    // The corpus: a prebuilt folder, or built once from data.train and cached in the run folder.
    if (corpus_dir.empty()) {
      corpus_dir = run_dir / "corpus";
      if (!std::filesystem::exists(corpus_dir / "corpus.json")) {
        logger->info("building the corpus in {}", corpus_dir.string());
        data::build_corpus_from_recipe(recipe, corpus_dir, threads, /*overwrite=*/true);
      }
    }
  } else {
    run_dir = std::filesystem::path(recipe.string("run.dir")) / run_name(recipe, flags.recipe);
    if (corpus_dir.empty()) corpus_dir = run_dir / "corpus";
  }
  // The other ranks read the corpus once rank 0 has it (a large one is best prebuilt with
  // 'genolm corpus' and named by data.corpus: this wait is bounded by dist.timeout).
  job.comm->barrier();
  const data::TokenCorpus corpus(corpus_dir);
  if (job.writer() && !std::filesystem::exists(run_dir / "tokenizer")) {
    tokenizers::load_tokenizer(corpus.tokenizer_dir())->save(run_dir / "tokenizer");
  }

  train::PretrainRun run;
  run.dir = run_dir;
  run.recipe = &recipe;
  run.corpus = &corpus;
  run.encoder = models::encoder_description(recipe, corpus.vocab_size());
  run.stride_prior = stride_prior(corpus.manifest().at("tokenizer"));
  run.resume = flags.resume;
  run.comm = job.comm.get();
  const auto outcome = train::train_language_model(run);
  if (job.writer()) std::cout << "report: " << (run_dir / "report.html").string() << "\n";
  return outcome == train::RunOutcome::finished ? 0 : 130;
}

}  // namespace

void register_pretrain(CLI::App& app, Action& action, const GlobalOptions& globals) {
  auto flags = std::make_shared<PretrainFlags>();
  auto* command = app.add_subcommand("pretrain", "pretrain a language model on genomes");
  flags->recipe.add_to(*command);
  command->add_flag("--resume", flags->resume,
                    "continue the run named by the recipe from its latest checkpoint");
  command->callback([&action, &globals, flags] {
    action = [&globals, flags] { return run_pretrain(*flags, globals); };
  });
}

}  // namespace genolm::cli
