#pragma once
// Fine-tuning with ULMFiT's recipe: a pooling head on a (pretrained) encoder, trained in stages of
// gradual unfreezing (head first, then one more layer group per stage, then everything), with
// discriminative learning rates (each lower group at the rate of the one above / lr_div) and a
// one-cycle schedule per stage. Valid metrics every epoch, the best epoch's weights kept in
// classifier.pt, optional early stopping, test metrics and predictions at the end, checkpoints
// that resume exactly, and a clean stop on SIGINT/SIGTERM.

#include <filesystem>
#include <nlohmann/json.hpp>

#include "config/recipe.h"
#include "data/task_data.h"
#include "train/inference.h"
#include "train/lm_trainer.h"

namespace genolm::dist {
class Communicator;
}

namespace genolm::train {

struct FinetuneRun {
  std::filesystem::path dir;  // the run folder
  const config::Recipe* recipe = nullptr;
  data::LabelScheme scheme;
  const data::TaskExamples* train = nullptr;
  const data::TaskExamples* valid = nullptr;
  const data::TaskExamples* test = nullptr;  // may hold no examples
  nlohmann::json encoder;                    // description, with the classifier's dropouts
  nlohmann::json task;                       // model.json's "task" (head, chunk, scaling, ...)
  TargetScaling scaling;
  std::filesystem::path pretrained;  // encoder.pt of the pretraining run; empty: from scratch
  nlohmann::json tokenizer;          // the tokenizer's manifest, for run.json
  bool resume = false;
  // The data-parallel job this process is a rank of; null: a single process.
  dist::Communicator* comm = nullptr;
};

// Throws genolm::Error on inconsistent stages or a checkpoint that cannot be read.
RunOutcome finetune(const FinetuneRun& run);

}  // namespace genolm::train
