#pragma once
// A run folder as a model: `--model runs/NAME` alone rebuilds the tokenizer, the encoder and, for
// a fine-tuned run, the classifier or regressor with its classes or targets, scaling and input
// columns, all from what the run recorded (model.json, tokenizer/, encoder.pt or classifier.pt).

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "data/task_data.h"
#include "genolm/tokenizers/tokenizer.h"
#include "io/labelled.h"
#include "models/encoder.h"
#include "models/sequence_classifier.h"
#include "train/inference.h"

namespace genolm::train {

struct ModelFolder {
  std::filesystem::path dir;
  nlohmann::json description;  // model.json
  std::unique_ptr<tokenizers::Tokenizer> tokenizer;
  std::shared_ptr<models::Encoder> encoder;
  std::shared_ptr<models::SequenceClassifier> classifier;  // fine-tuned runs; null otherwise
  data::LabelScheme scheme;
  TargetScaling scaling;
  io::LabelledSpec columns;  // the columns the model was trained on
  std::int64_t chunk = 0;    // tokens the encoder reads at a time
  bool rc_average = false;
  bool bf16 = false;

  bool fine_tuned() const { return classifier != nullptr; }
  bool transformer() const { return description.at("encoder").at("arch") == "transformer"; }
};

// Loads the folder in inference mode, its model on `device`. Throws genolm::Error naming the
// folder and the missing or malformed piece.
ModelFolder load_model_folder(const std::filesystem::path& dir,
                              const torch::Device& device = torch::kCPU);

// Reads the trainer's view of model.json's "task" back into a label scheme and scaling.
data::LabelScheme scheme_of(const nlohmann::json& task);
TargetScaling scaling_of(const nlohmann::json& task);

}  // namespace genolm::train
