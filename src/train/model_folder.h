#pragma once
// A run folder as a model: `--model runs/NAME` alone rebuilds the tokenizer, the encoder and, for
// a fine-tuned run, the classifier or regressor with its task (classes or targets, scaling) and
// input columns, all from what the run recorded (model.json, tokenizer/, encoder.safetensors or
// classifier.safetensors). The reader of the run folder's model; the writers are the training
// loops.

#include <filesystem>
#include <memory>

#include "data/task_data.h"
#include "genolm/tokenizers/tokenizer.h"
#include "io/labelled.h"
#include "models/encoder.h"
#include "models/language_model.h"
#include "models/sequence_classifier.h"
#include "run/model_card.h"
#include "run/run_layout.h"
#include "task/task.h"

namespace genolm::train {

struct ModelFolder {
  run::RunLayout layout{""};
  run::ModelCard card;
  std::unique_ptr<tokenizers::Tokenizer> tokenizer;
  std::shared_ptr<models::Encoder> encoder;
  std::shared_ptr<models::SequenceClassifier> classifier;  // fine-tuned runs; null otherwise
  // A pretraining run's whole language model (encoder and decoder), when its folder holds
  // language_model.safetensors; it shares `encoder`. Null otherwise.
  std::shared_ptr<models::LanguageModel> language_model;
  std::unique_ptr<task::Task> task;  // fine-tuned runs; null otherwise
  io::LabelledSpec columns;          // the columns the model was trained on
  std::int64_t chunk = 0;            // tokens the encoder reads at a time
  bool rc_average = false;
  bool bf16 = false;

  bool fine_tuned() const { return classifier != nullptr; }
  // Whether the model reads sequences backwards (its tokens reversed), as it was trained.
  bool backward() const { return card.direction == run::ReadingDirection::backward; }
  // bf16 by autocast (the encoder casts by itself otherwise).
  bool autocast() const { return bf16 && encoder->bf16_mode() == models::Bf16Mode::autocast; }
  // How labels are read: the task's, or none for a language model.
  data::LabelScheme scheme() const { return task ? task->scheme() : data::LabelScheme{}; }
};

// Loads the folder in inference mode, its model on `device`: a fine-tuned run's classifier, or a
// pretraining run's language model (from language_model.safetensors, which holds the encoder too)
// or, in folders written before it existed, its encoder alone. Throws genolm::Error naming the
// folder and the missing or malformed piece.
ModelFolder load_model_folder(const std::filesystem::path& dir,
                              const torch::Device& device = torch::kCPU);

// Inference in bf16 (with fp32 weights) or fp32, whatever the run trained in.
void use_bf16(ModelFolder& folder, bool bf16);

}  // namespace genolm::train
