#include "data/corpus_from_recipe.h"

#include "data/corpus_builder.h"
#include "data/tokenizer_factory.h"
#include "genolm/error.h"
#include "io/table_reader.h"

namespace genolm::data {

std::unique_ptr<tokenizers::Tokenizer> tokenizer_from_recipe(
    const config::Recipe& recipe, const std::vector<std::filesystem::path>& training_files,
    int threads) {
  if (!recipe.string("tokenizer.path").empty()) {
    return tokenizers::load_tokenizer(recipe.string("tokenizer.path"));
  }
  TokenizerSpec spec;
  spec.kind = recipe.string("tokenizer.kind");
  spec.k = static_cast<int>(recipe.integer("tokenizer.k"));
  spec.stride = static_cast<int>(recipe.integer("tokenizer.stride"));
  spec.vocab_size = static_cast<int>(recipe.integer("tokenizer.vocab_size"));
  spec.piece_bases = static_cast<std::size_t>(recipe.integer("tokenizer.piece_bases"));
  spec.train_bases = static_cast<std::uint64_t>(recipe.integer("tokenizer.train_bases"));
  spec.threads = threads;
  spec.seed = static_cast<std::uint64_t>(recipe.integer("run.seed"));
  spec.soft_mask =
      recipe.string("data.soft_mask") == "keep" ? io::SoftMask::keep : io::SoftMask::upper;
  spec.n_run_split = static_cast<std::size_t>(recipe.integer("data.n_run_split"));
  return make_tokenizer(spec, training_files);
}

nlohmann::json build_corpus_from_recipe(const config::Recipe& recipe,
                                        const std::filesystem::path& out, int threads,
                                        bool overwrite, const tokenizers::Tokenizer* tokenizer) {
  const auto& train = recipe.strings("data.train");
  if (train.empty()) {
    throw Error("no input files: give data.train in the recipe (or --input FILE ...)");
  }
  const std::vector<std::filesystem::path> inputs(train.begin(), train.end());
  const auto soft_mask =
      recipe.string("data.soft_mask") == "keep" ? io::SoftMask::keep : io::SoftMask::upper;
  const auto n_run_split = static_cast<std::size_t>(recipe.integer("data.n_run_split"));

  // SentencePiece learns from the FASTA/FASTQ files alone; tables hold task sequences.
  std::vector<std::filesystem::path> sequence_files;
  for (const auto& input : inputs)
    if (!io::named_like_table(input)) sequence_files.push_back(input);
  const auto& columns = recipe.strings("data.sequence_columns");
  if (sequence_files.size() == inputs.size() && columns != std::vector<std::string>{"sequence"}) {
    throw Error(
        "data.sequence_columns names the sequence columns of tables, but data.train holds "
        "no CSV/TSV file (.csv, .tsv or .tab, each also .gz): drop the key");
  }
  std::unique_ptr<tokenizers::Tokenizer> made;
  if (tokenizer == nullptr) {
    try {
      made = tokenizer_from_recipe(recipe, sequence_files, threads);
    } catch (const Error& e) {
      if (!sequence_files.empty()) throw;
      // A SentencePiece kind found nothing to learn from.
      throw Error(std::string(e.what()) +
                  "; data.train holds tables only, which tokenizers do not train on: name a "
                  "tokenizer with tokenizer.path, or start from a run with init.from");
    }
    tokenizer = made.get();
  }

  CorpusOptions options;
  options.inputs = inputs;
  options.out = out;
  options.valid_fraction = recipe.number("data.valid_fraction");
  options.valid_block_bases = static_cast<std::uint64_t>(recipe.integer("data.valid_block_bases"));
  options.seed = static_cast<std::uint64_t>(recipe.integer("run.seed"));
  options.soft_mask = soft_mask;
  options.n_run_split = n_run_split;
  options.reverse_complement = recipe.boolean("data.reverse_complement");
  options.sequence_columns = columns;
  options.threads = threads;
  options.overwrite = overwrite;
  return build_corpus(*tokenizer, options);
}

}  // namespace genolm::data
