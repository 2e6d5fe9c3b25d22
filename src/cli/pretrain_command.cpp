// genolm pretrain: recipe -> run folder -> corpus (cached) -> language model (new, or continued
// from init.from's: ULMFiT's stage 2).
#include <ATen/Parallel.h>

#include <iostream>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "cli/data_parallel.h"
#include "data/corpus_from_recipe.h"
#include "data/token_corpus.h"
#include "genolm/error.h"
#include "genolm/tokenizers/tokenizer.h"
#include "run/pretrained_run.h"
#include "run/run_folder.h"
#include "train/lm_trainer.h"
#include "util/log.h"

namespace genolm::cli {
namespace {

// A prebuilt corpus (data.corpus) must hold the ids the parent language model reads.
void check_parent_tokenizer(const data::TokenCorpus& corpus, const std::filesystem::path& dir,
                            const run::PretrainedRun& parent) {
  const auto& built = corpus.manifest().at("tokenizer");
  const auto reads = tokenizers::read_tokenizer_manifest(parent.layout.tokenizer());
  if (!run::same_tokenizer(built, reads)) {
    throw Error("data.corpus " + dir.string() + " was built with the tokenizer " +
                run::describe_tokenizer(built) + ", but init.from " + parent.layout.dir().string() +
                " reads " + run::describe_tokenizer(reads) + ": build it with tokenizer.path = \"" +
                parent.layout.tokenizer().string() + "\" (or with init.from in its recipe)");
  }
}

struct PretrainFlags {
  RecipeOptions recipe;
  bool resume = false;
};

int run_pretrain(const PretrainFlags& flags, const GlobalOptions& globals) {
  const config::Recipe recipe = flags.recipe.resolve(config::Command::pretrain);
  if (flags.recipe.dump) {
    std::cout << run::dump_recipe(recipe, config::Command::pretrain);
    return 0;
  }
  const int threads = globals.resolved_threads();
  at::set_num_threads(threads);  // LibTorch starts with one thread here

  // ULMFiT's stage 2: another run's language model and its tokenizer, checked before anything is
  // written.
  std::optional<run::PretrainedRun> parent;
  std::unique_ptr<tokenizers::Tokenizer> parent_tokenizer;
  if (const auto use = run::pretrained_run_use(recipe, config::Command::pretrain)) {
    parent = run::open_pretrained_run(recipe, *use);
    parent_tokenizer = run::load_tokenizer(*parent);
    const bool backward = recipe.boolean("data.backward");
    if ((parent->card.direction == run::ReadingDirection::backward) != backward) {
      throw Error("init.from " + parent->layout.dir().string() + " reads " +
                  run::direction_name(parent->card.direction) + ", but data.backward = " +
                  (backward ? "true" : "false") + ": a stage-2 model reads as its parent does");
    }
  }

  auto job = join_data_parallel(recipe, globals);
  const auto layout = job.writer() ? run::open_run_folder(recipe, flags.recipe.config_file,
                                                          config::Command::pretrain, flags.resume)
                                   : run::run_layout(recipe, flags.recipe.config_file);
  // The corpus: a prebuilt folder, or built once from data.train and cached in the run folder.
  const bool prebuilt = !recipe.string("data.corpus").empty();
  const std::filesystem::path corpus_dir =
      prebuilt ? std::filesystem::path(recipe.string("data.corpus")) : layout.corpus();
  if (job.writer()) {
    log("pretrain")
        ->info("run folder {} ({})", layout.dir().string(), flags.resume ? "resuming" : "new run");
    if (!prebuilt && !std::filesystem::exists(corpus_dir / data::kCorpusManifestName)) {
      log("pretrain")->info("building the corpus in {}", corpus_dir.string());
      data::build_corpus_from_recipe(recipe, corpus_dir, threads, /*overwrite=*/true,
                                     parent_tokenizer.get());
    }
  }
  // The other ranks read the corpus once rank 0 has it (a large one is best prebuilt with
  // 'genolm corpus' and named by data.corpus: this wait is bounded by dist.timeout).
  job.comm->barrier();
  const data::TokenCorpus corpus(corpus_dir);
  if (parent) check_parent_tokenizer(corpus, corpus_dir, *parent);
  const auto tokenizer = tokenizers::load_tokenizer(corpus.tokenizer_dir());
  if (job.writer() && !std::filesystem::exists(layout.tokenizer())) {
    tokenizer->save(layout.tokenizer());
  }

  const train::RunContext context{
      .layout = layout, .recipe = &recipe, .resume = flags.resume, .comm = job.comm.get()};
  const auto outcome = train::train_language_model({.context = context,
                                                    .corpus = &corpus,
                                                    .tokenizer = tokenizer.get(),
                                                    .init = parent ? &*parent : nullptr});
  if (job.writer()) std::cout << "report: " << layout.report().string() << "\n";
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
