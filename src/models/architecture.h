#pragma once
// The one table of encoder architectures. Each entry says how to describe an encoder from a
// recipe's [model] keys, how to rebuild it from that description (model.json), its fine-tuning
// dropouts and its language-model head. Code outside models/ never tests an architecture's name:
// it asks the table for an entry (an unknown name is an error) and the encoder for its traits
// (Encoder::carries_state, bf16_mode, window, layer_groups).
//
// Adding an architecture: its own files (an Encoder subclass and an `Architecture` entry), its
// registration in architectures.cpp, its name among model.arch's choices in
// config/recipe_schema.cpp, a recipe and a test (docs/extending.md).

#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "config/recipe.h"
#include "models/encoder.h"
#include "models/language_model.h"

namespace genolm::models {

struct Architecture {
  std::string_view name;  // model.arch and model.json's encoder "arch"
  // The description of a new encoder of `vocab_size` tokens from [model], dropouts already
  // multiplied by model.drop_mult.
  nlohmann::json (*describe)(const config::Recipe& recipe, std::int64_t vocab_size);
  // Rebuilds the encoder; throws genolm::Error for a missing or malformed size.
  std::shared_ptr<Encoder> (*build)(const nlohmann::json& description);
  // The same description with fastai's classifier dropouts times drop_mult.
  nlohmann::json (*with_classifier_dropouts)(nlohmann::json description, double drop_mult);
  // The language-model head's dropout style and activation regularisation.
  LanguageModelOptions (*language_model)(const nlohmann::json& description, double ar_alpha,
                                         double tar_beta);
};

// Every registered architecture, in the order help texts list them.
const std::vector<Architecture>& architectures();

// The entry for `name`; throws genolm::Error naming the known architectures otherwise.
const Architecture& architecture(std::string_view name);
// The entry for a description's "arch".
const Architecture& architecture_of(const nlohmann::json& description);

// A field of an encoder description, or an error naming it.
template <typename T>
T description_field(const nlohmann::json& description, const char* key);

// A size read from a description (model.json), checked to lie in [low, high] before it sizes
// anything: a damaged or hostile file must give an error, not a crash or a huge allocation.
std::int64_t description_size(const nlohmann::json& description, const char* key, std::int64_t low,
                              std::int64_t high);
// A dropout probability, in [0, 1).
double description_probability(const nlohmann::json& description, const char* key);
// Refuses an embedding table (vocabulary x width) too large to be a model genolm made.
void check_embedding_size(std::int64_t vocab_size, std::int64_t width);

// The largest sizes a description may give (far above any recipe's).
inline constexpr std::int64_t kMaxWidth = 1 << 16;
inline constexpr std::int64_t kMaxLayers = 256;
inline constexpr std::int64_t kMaxEmbeddingValues = std::int64_t{1} << 30;

}  // namespace genolm::models
