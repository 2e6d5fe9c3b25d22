#pragma once
// model.json: the card that says what a run folder's model is, with one writer and one reader.
// Version 2 holds what produced it, the encoder (architecture and sizes), the tokenizer (its
// manifest and full vocabulary), the direction the model reads, the task ("language_model" or a
// fine-tuned task) and which weight files hold what. Cards of earlier versions ({"encoder",
// "task"} alone) still load: the missing fields are taken from the folder (the tokenizer) or
// their old meaning (forward; encoder.safetensors, or classifier.safetensors for a fine-tuned
// task).

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "genolm/tokenizers/tokenizer.h"

namespace genolm::run {

inline constexpr std::string_view kModelCardFormat = "genolm-model";
inline constexpr int kModelCardVersion = 2;

enum class ReadingDirection { forward, backward };

struct ModelCard {
  int version = kModelCardVersion;
  std::string produced_by;   // "genolm pretrain 0.1.0"
  nlohmann::json encoder;    // architecture and sizes, as models/ describes them
  nlohmann::json tokenizer;  // tokenizer.json's manifest plus "vocabulary": [token, ...]
  ReadingDirection direction = ReadingDirection::forward;
  nlohmann::json task = "language_model";  // or the fine-tuned task's object
  bool has_language_model = false;         // language_model.safetensors: encoder and decoder

  bool fine_tuned() const { return task.is_object(); }
};

// The tokenizer's manifest with its whole vocabulary, for a card.
nlohmann::json tokenizer_card(const tokenizers::Tokenizer& tokenizer);

std::string direction_name(ReadingDirection direction);

// Writes the card atomically.
void write_model_card(const std::filesystem::path& file, const ModelCard& card);
// Reads a card of any version. Throws genolm::Error naming the file and the field for a missing
// or malformed field, or a version newer than this genolm reads.
ModelCard read_model_card(const std::filesystem::path& file);

}  // namespace genolm::run
