#pragma once
// predict's and evaluate's models: one fine-tuned run, or an ensemble of several (ULMFiT's forward
// + backward pair, or seeds) whose predictions are averaged: class probabilities (each member's
// strand-averaged belief) or values in the targets' units. Every member reads the input with its
// own tokenizer and direction; they must predict the same task (kind, classes or targets).

#include <string>
#include <vector>

#include "cli/model_input.h"
#include "task/task.h"
#include "train/model_folder.h"

namespace genolm::cli {

struct EnsemblePredictions {
  train::ModelFolder lead;        // the first member: its task writes and scores the predictions
  data::TaskExamples examples;    // as the first member read them (ids, labels)
  task::Predictions predictions;  // the members' mean
  std::size_t members = 0;
};

// `command` names the caller in errors ("predict").
EnsemblePredictions predict_ensemble(const ModelInputOptions& options, const StrandFlags& strands,
                                     bool with_labels, const std::string& command);

// The element-wise mean of the members' predictions; throws genolm::Error when their shapes
// differ.
task::Predictions average_predictions(const std::vector<task::Predictions>& members);

// Throws genolm::Error naming both folders unless `member` predicts what `lead` predicts.
void require_same_task(const train::ModelFolder& lead, const std::string& lead_name,
                       const train::ModelFolder& member, const std::string& member_name);

}  // namespace genolm::cli
