#pragma once
// What predict, evaluate and embed share: the --model/--input options, the columns an input file
// is read with (the model's own unless overridden), and reading it into tokenized examples.

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "data/task_data.h"
#include "train/model_folder.h"

namespace genolm::cli {

struct ModelInputOptions {
  std::string model;
  std::string input;
  std::vector<std::string> sequence_columns;  // empty: the model's (or "sequence")
  std::string id_column;                      // empty: the model's (or "id")
  std::int64_t batch_size = 128;

  void add_to(CLI::App& command);
  // The columns to read `input` with; with_labels adds the model's label columns.
  io::LabelledSpec columns(const train::ModelFolder& folder, bool with_labels) const;
};

// Reads and tokenizes the whole input (with labels checked against the model when asked).
data::TaskExamples read_examples(const ModelInputOptions& options, const train::ModelFolder& folder,
                                 bool with_labels, bool both_strands);

}  // namespace genolm::cli
