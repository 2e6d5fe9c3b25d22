// genolm corpus: genome files and tables -> token shards. Reads the [data] and [tokenizer] parts of
// a recipe (and init.from's tokenizer); its flags are shorthands for those keys.
#include <iostream>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "data/corpus_from_recipe.h"
#include "genolm/error.h"
#include "run/pretrained_run.h"

namespace genolm::cli {
namespace {

struct CorpusFlags {
  RecipeOptions recipe;
  std::string tokenizer;
  std::vector<std::string> inputs;
  std::string out;
  std::optional<double> valid_fraction;
  bool overwrite = false;
};

void run_corpus(const CorpusFlags& flags, const GlobalOptions& globals) {
  const auto command = config::Command::corpus;
  const config::Recipe recipe = flags.recipe.resolve(command, [&flags](config::Recipe& r) {
    if (!flags.tokenizer.empty()) r.set_value("tokenizer.path", flags.tokenizer, "--tokenizer");
    if (!flags.inputs.empty()) r.set_value("data.train", flags.inputs, "--input");
    if (flags.valid_fraction)
      r.set_value("data.valid_fraction", *flags.valid_fraction, "--valid-fraction");
  });
  if (flags.recipe.dump) {
    std::cout << recipe.dump(command);
    return;
  }
  if (flags.out.empty()) throw Error("corpus: --out is required (the corpus folder to write)");
  // A stage-2 recipe's corpus is tokenized as its parent language model reads.
  std::unique_ptr<tokenizers::Tokenizer> parent_tokenizer;
  if (!recipe.string("init.from").empty()) {
    parent_tokenizer = run::load_tokenizer(
        run::open_pretrained_run(recipe, run::language_model_use("genolm corpus")));
  }
  const auto manifest = data::build_corpus_from_recipe(
      recipe, flags.out, globals.resolved_threads(), flags.overwrite, parent_tokenizer.get());
  const auto& tokenizer = manifest.at("tokenizer");

  const auto& splits = manifest.at("splits");
  std::cout << "corpus " << flags.out << ": " << tokenizer.at("kind").get<std::string>()
            << " tokenizer, vocab " << manifest.at("vocab_size") << "; train "
            << splits.at("train").at("tokens") << " tokens, valid "
            << splits.at("valid").at("tokens") << " tokens\n";
}

}  // namespace

void register_corpus(CLI::App& app, Action& action, const GlobalOptions& globals) {
  auto flags = std::make_shared<CorpusFlags>();
  auto* command = app.add_subcommand("corpus", "tokenize genome files into a token corpus");
  command
      ->add_option("--tokenizer", flags->tokenizer,
                   "tokenizer folder (default: made from the recipe's [tokenizer])")
      ->type_name("DIR");
  command
      ->add_option("--input", flags->inputs,
                   "FASTA/FASTQ files or CSV/TSV tables (data.sequence_columns), plain or gzip")
      ->type_name("FILE");
  command->add_option("--out", flags->out, "corpus folder to write")->type_name("DIR");
  command->add_option("--valid-fraction", flags->valid_fraction,
                      "share held out for validation (default 0.01)");
  command->add_flag("--overwrite", flags->overwrite, "replace an existing corpus folder");
  flags->recipe.add_to(*command);
  command->callback([&action, &globals, flags] {
    action = [&globals, flags] {
      run_corpus(*flags, globals);
      return 0;
    };
  });
}

}  // namespace genolm::cli
