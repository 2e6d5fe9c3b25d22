// genolm corpus: genome files -> token shards. Reads the [data] and [tokenizer] parts of a recipe;
// its flags are shorthands for those keys.
#include <iostream>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "data/corpus_builder.h"
#include "data/tokenizer_factory.h"
#include "genolm/error.h"
#include "genolm/tokenizers/tokenizer.h"

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
  const config::Recipe recipe = flags.recipe.resolve([&flags](config::Recipe& r) {
    if (!flags.tokenizer.empty()) r.set_value("tokenizer.path", flags.tokenizer, "--tokenizer");
    if (!flags.inputs.empty()) r.set_value("data.train", flags.inputs, "--input");
    if (flags.valid_fraction)
      r.set_value("data.valid_fraction", *flags.valid_fraction, "--valid-fraction");
  });
  if (flags.recipe.dump) {
    std::cout << recipe.dump();
    return;
  }
  if (flags.out.empty()) throw Error("corpus: --out is required (the corpus folder to write)");
  const auto& train = recipe.strings("data.train");
  if (train.empty()) throw Error("corpus: no input files (give --input FILE ... or data.train)");
  const std::vector<std::filesystem::path> inputs(train.begin(), train.end());
  const int threads = globals.resolved_threads();
  const auto soft_mask =
      recipe.string("data.soft_mask") == "keep" ? io::SoftMask::keep : io::SoftMask::upper;
  const auto n_run_split = static_cast<std::size_t>(recipe.integer("data.n_run_split"));

  std::unique_ptr<tokenizers::Tokenizer> tokenizer;
  if (!recipe.string("tokenizer.path").empty()) {
    tokenizer = tokenizers::load_tokenizer(recipe.string("tokenizer.path"));
  } else {
    data::TokenizerSpec spec;
    spec.kind = recipe.string("tokenizer.kind");
    spec.k = static_cast<int>(recipe.integer("tokenizer.k"));
    spec.stride = static_cast<int>(recipe.integer("tokenizer.stride"));
    spec.vocab_size = static_cast<int>(recipe.integer("tokenizer.vocab_size"));
    spec.piece_bases = static_cast<std::size_t>(recipe.integer("tokenizer.piece_bases"));
    spec.train_bases = static_cast<std::uint64_t>(recipe.integer("tokenizer.train_bases"));
    spec.threads = threads;
    spec.seed = static_cast<std::uint64_t>(recipe.integer("run.seed"));
    spec.soft_mask = soft_mask;
    spec.n_run_split = n_run_split;
    tokenizer = data::make_tokenizer(spec, inputs);
  }

  data::CorpusOptions options;
  options.inputs = inputs;
  options.out = flags.out;
  options.valid_fraction = recipe.number("data.valid_fraction");
  options.valid_block_bases = static_cast<std::uint64_t>(recipe.integer("data.valid_block_bases"));
  options.seed = static_cast<std::uint64_t>(recipe.integer("run.seed"));
  options.soft_mask = soft_mask;
  options.n_run_split = n_run_split;
  options.threads = threads;
  options.overwrite = flags.overwrite;
  const auto manifest = data::build_corpus(*tokenizer, options);

  const auto& splits = manifest.at("splits");
  std::cout << "corpus " << flags.out << ": " << tokenizer->kind() << " tokenizer, vocab "
            << tokenizer->vocab_size() << "; train " << splits.at("train").at("tokens")
            << " tokens, valid " << splits.at("valid").at("tokens") << " tokens\n";
}

}  // namespace

void register_corpus(CLI::App& app, Action& action, const GlobalOptions& globals) {
  auto flags = std::make_shared<CorpusFlags>();
  auto* command = app.add_subcommand("corpus", "tokenize genome files into a token corpus");
  command
      ->add_option("--tokenizer", flags->tokenizer,
                   "tokenizer folder (default: made from the recipe's [tokenizer])")
      ->type_name("DIR");
  command->add_option("--input", flags->inputs, "FASTA/FASTQ files, plain or gzip")
      ->type_name("FILE");
  command->add_option("--out", flags->out, "corpus folder to write")->type_name("DIR");
  command->add_option("--valid-fraction", flags->valid_fraction,
                      "share held out for validation (default 0.01)");
  command->add_flag("--overwrite", flags->overwrite, "replace an existing corpus folder");
  flags->recipe.add_to(*command);
  command->callback(
      [&action, &globals, flags] { action = [&globals, flags] { run_corpus(*flags, globals); }; });
}

}  // namespace genolm::cli
