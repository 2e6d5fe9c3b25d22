#pragma once
// What predict, evaluate and embed share: the --model/--input options, the columns an input file
// is read with (the model's own unless overridden), and reading it into tokenized examples.

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "data/task_data.h"
#include "train/model_folder.h"

namespace genolm::cli {

// How many --model folders a command takes: one, or several (an ensemble).
enum class ModelCount { one, many };

// Where a run folder's model runs and in what arithmetic: --device and --precision, which every
// inference command takes (variants and scan beside inputs of their own).
struct DeviceOptions {
  std::string device = "auto";  // auto: a GPU when CUDA is available, else the CPU
  // auto: fp32 on the CPU (exact), the run's own precision on a GPU; or fp32, bf16.
  std::string precision = "auto";

  void add_to(CLI::App& command);
  torch::Device resolved_device() const;
  // The run folder `model` on the resolved device, computing in the resolved precision.
  train::ModelFolder load_folder(const std::string& model) const;
};

struct ModelInputOptions : DeviceOptions {
  std::vector<std::string> models;  // --model
  std::string input;
  std::vector<std::string> sequence_columns;  // empty: the model's (or "sequence")
  std::string id_column;                      // empty: the model's (or "id")
  std::int64_t batch_size = 128;

  void add_to(CLI::App& command, ModelCount count = ModelCount::one);
  const std::string& model() const { return models.front(); }
  // The columns to read `input` with; with_labels adds the model's label columns.
  io::LabelledSpec columns(const train::ModelFolder& folder, bool with_labels) const;
};

// predict's and evaluate's strand flags: averaging over both DNA strands as the model was
// fine-tuned, unless --rc-average or --no-rc-average says otherwise.
struct StrandFlags {
  bool rc_average = false;
  bool no_rc_average = false;
  void add_to(CLI::App& command);
  bool average(const train::ModelFolder& folder) const {
    return (folder.rc_average || rc_average) && !no_rc_average;
  }
};

// The fine-tuned run folder `model`; `command` ("predict") names who needs it in the error a
// pretraining run gets.
train::ModelFolder load_fine_tuned(const std::string& model, const DeviceOptions& options,
                                   const std::string& command);

// Predictions for `examples` with the folder's precision and the given batch and strands.
task::Predictions predict_with(train::ModelFolder& folder, const data::TaskExamples& examples,
                               std::int64_t batch_size, bool rc_average);

// Streams the input through in blocks of up to 4,096 records, so a file larger than memory passes
// in bounded memory: each block tokenized as `folder` reads (and its other strand when asked),
// handed to `use` with its records, in input order. Returns the number of records.
std::size_t for_each_block(const ModelInputOptions& options, const train::ModelFolder& folder,
                           bool both_strands,
                           const std::function<void(const std::vector<io::LabelledExample>&,
                                                    const data::TaskExamples&)>& use);

// Reads and tokenizes the whole input (with labels checked against the model when asked).
data::TaskExamples read_examples(const ModelInputOptions& options, const train::ModelFolder& folder,
                                 bool with_labels, bool both_strands);

}  // namespace genolm::cli
