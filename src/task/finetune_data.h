#pragma once
// The labelled splits a fine-tuning recipe names, made ready: the task kind built from [task]
// (classes found in task.train when not listed), train/valid/test read from their files or split
// off task.train (stratified by the task, seeded by run.seed), tokenized (both strands when strand
// augmentation or averaging is on), and the task fitted to the train split (class weights, target
// standardisation).

#include <memory>

#include "config/recipe.h"
#include "data/task_data.h"
#include "genolm/tokenizers/tokenizer.h"
#include "io/labelled.h"
#include "task/task.h"

namespace genolm::task {

struct FinetuneData {
  std::unique_ptr<Task> task;
  io::LabelledSpec columns;  // the columns every split is read with
  data::TaskExamples train, valid, test;
};

// The columns [task] names (FASTA records checked against `tokenizer`'s alphabet), and how its
// sequences are encoded (both strands when strand augmentation or averaging is on; `backward`:
// reversed).
io::LabelledSpec task_columns(const config::Recipe& recipe, const tokenizers::Tokenizer& tokenizer);
data::EncodeOptions task_encoding(const config::Recipe& recipe, bool backward);

// Examples `indices` of `all`, in that order.
data::TaskExamples select_examples(const data::TaskExamples& all,
                                   const std::vector<std::size_t>& indices);

// Throws genolm::Error for an empty valid split or fewer than 2 training examples (naming
// `train_file`), then fits the task to the train split.
void check_and_fit(FinetuneData& data, const std::filesystem::path& train_file);

// Throws genolm::Error unless the recipe names a training file: checked before a run folder is
// made for it.
void require_training_file(const config::Recipe& recipe);

// Throws genolm::Error naming the file, the line and the problem for bad input, and the key for
// a split that comes out empty.
// `backward`: every sequence's tokens reversed (a backward encoder's reading order).
FinetuneData load_finetune_data(const config::Recipe& recipe,
                                const tokenizers::Tokenizer& tokenizer, bool backward);

}  // namespace genolm::task
