#pragma once
// Where a fine-tuning run's encoder and tokenizer come from: the language model of a pretraining
// run (encoder.from: its encoder.safetensors, model.json and tokenizer), or a new encoder of the
// recipe's [model] with the recipe's tokenizer.

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "config/recipe.h"
#include "genolm/tokenizers/tokenizer.h"
#include "run/model_card.h"

namespace genolm::train {

struct EncoderStart {
  std::unique_ptr<tokenizers::Tokenizer> tokenizer;
  nlohmann::json description;  // as pretrained (the language model's dropouts)
  std::filesystem::path
      weights;  // encoder.safetensors of the pretraining run; empty: random weights
  bool weights_hold_language_model = false;  // `weights` is language_model.safetensors
  std::filesystem::path from;                // the pretraining run folder; empty: from scratch
  // The pretrained run's reading direction, or encoder.backward's for a new encoder: the
  // fine-tuned model reads its sequences the same way.
  run::ReadingDirection direction = run::ReadingDirection::forward;
  bool backward() const { return direction == run::ReadingDirection::backward; }
  bool pretrained() const { return !weights.empty(); }
};

// Throws genolm::Error when encoder.from is not a pretraining run folder, or when the recipe asks
// for a tokenizer other than the one the encoder was pretrained with (token ids mean nothing to
// another vocabulary), or encoder.backward differs from the pretrained run's direction.
EncoderStart encoder_start(const config::Recipe& recipe, int threads);

}  // namespace genolm::train
