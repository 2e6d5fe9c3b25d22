#pragma once
// Builds encoders and language models from a description (model.json, or the recipe's [model]),
// so a run folder rebuilds its model from what it recorded.

#include <memory>
#include <nlohmann/json.hpp>

#include "config/recipe.h"
#include "models/language_model.h"

namespace genolm::models {

// The encoder description for `vocab_size` tokens from the recipe's [model] keys, dropouts already
// multiplied by model.drop_mult.
nlohmann::json encoder_description(const config::Recipe& recipe, std::int64_t vocab_size);

// Throws genolm::Error for an unknown architecture or missing sizes.
std::shared_ptr<Encoder> make_encoder(const nlohmann::json& description);

// A language model around `encoder` with the architecture's own output dropout; AR and TAR
// (fastai's RNNRegularizer, 2 and 1 by default) apply to the AWD-LSTM only.
std::shared_ptr<LanguageModel> make_language_model(std::shared_ptr<Encoder> encoder,
                                                   const nlohmann::json& description,
                                                   double ar_alpha, double tar_beta);

}  // namespace genolm::models
