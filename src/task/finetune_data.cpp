#include "task/finetune_data.h"

#include <sstream>

#include "data/tokenizer_factory.h"
#include "genolm/error.h"

namespace genolm::task {
namespace {

// A split: its own file when the recipe names one, else its share of task.train.
data::TaskExamples file_or_share(const config::Recipe& recipe, const std::string& split,
                                 const data::TaskExamples& all_train,
                                 const std::vector<std::size_t>& indices, const FinetuneData& data,
                                 const tokenizers::Tokenizer& tokenizer,
                                 const data::EncodeOptions& encode) {
  const std::string file_key = "task." + split, fraction_key = "task." + split + "_fraction";
  const std::filesystem::path file = recipe.string(file_key);
  if (!file.empty()) {
    return data::encode_examples(io::read_labelled(file, data.columns), tokenizer,
                                 data.task->scheme(), file, encode);
  }
  if (indices.empty() && recipe.number(fraction_key) > 0) {
    std::ostringstream why;
    why << fraction_key << " " << recipe.number(fraction_key) << " of " << all_train.size()
        << " examples in " << recipe.string("task.train")
        << " leaves the split empty: raise it or name " << file_key;
    throw Error(why.str());
  }
  return select_examples(all_train, indices);
}

}  // namespace

data::TaskExamples select_examples(const data::TaskExamples& all,
                                   const std::vector<std::size_t>& indices) {
  data::TaskExamples out;
  for (const std::size_t i : indices)
    data::append_example(all, i, out);
  return out;
}

io::LabelledSpec task_columns(const config::Recipe& recipe,
                              const tokenizers::Tokenizer& tokenizer) {
  return {.sequence_columns = recipe.strings("task.sequence_columns"),
          .label_columns = recipe.strings("task.label_columns"),
          .id_column = recipe.string("task.id_column"),
          .fastx_alphabet = data::fastx_alphabet(tokenizer)};
}

data::EncodeOptions task_encoding(const config::Recipe& recipe, bool backward) {
  const bool both_strands = recipe.boolean("task.rc_augment") || recipe.boolean("task.rc_average");
  return {.with_labels = true, .reverse_complement = both_strands, .backward = backward};
}

void check_and_fit(FinetuneData& data, const std::filesystem::path& train_file) {
  if (data.valid.size() == 0) {
    throw Error("the valid split is empty: set task.valid or a task.valid_fraction above 0");
  }
  if (data.train.size() < 2) {
    throw Error("the train split of " + train_file.string() + " has " +
                std::to_string(data.train.size()) + " example(s): too few to train on");
  }
  data.task->fit(data.train);
}

void require_training_file(const config::Recipe& recipe) {
  if (recipe.string("task.train").empty()) {
    throw Error("task.train is empty: name the labelled training file (CSV, TSV or FASTA)");
  }
}

FinetuneData load_finetune_data(const config::Recipe& recipe,
                                const tokenizers::Tokenizer& tokenizer, bool backward) {
  require_training_file(recipe);
  const std::filesystem::path train_file = recipe.string("task.train");
  FinetuneData data;
  data.columns = task_columns(recipe, tokenizer);
  const auto& kind = task_kind(recipe.string("task.kind"));
  const auto train_records = io::read_labelled(train_file, data.columns);
  data.task = kind.from_recipe(recipe, train_records, train_file);

  const auto encode = task_encoding(recipe, backward);
  const auto all_train =
      data::encode_examples(train_records, tokenizer, data.task->scheme(), train_file, encode);
  // A split's share applies only when it has no file of its own.
  const double valid_share =
      recipe.string("task.valid").empty() ? recipe.number("task.valid_fraction") : 0.0;
  const double test_share =
      recipe.string("task.test").empty() ? recipe.number("task.test_fraction") : 0.0;
  const auto split = data::stratified_split(data.task->strata(all_train), valid_share, test_share,
                                            static_cast<std::uint64_t>(recipe.integer("run.seed")));
  data.train = select_examples(all_train, split.train);
  data.valid = file_or_share(recipe, "valid", all_train, split.valid, data, tokenizer, encode);
  data.test = file_or_share(recipe, "test", all_train, split.test, data, tokenizer, encode);
  check_and_fit(data, train_file);
  return data;
}

}  // namespace genolm::task
