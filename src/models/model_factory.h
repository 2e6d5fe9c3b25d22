#pragma once
// Builds encoders, language models and classifiers from a description (model.json, or the
// recipe's [model]), so a run folder rebuilds its model from what it recorded. Architectures are
// looked up in their table (models/architecture.h).

#include <memory>
#include <nlohmann/json.hpp>

#include "config/recipe.h"
#include "models/language_model.h"
#include "models/sequence_classifier.h"

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

// The same encoder with fastai's classifier dropouts times `drop_mult` (AWD-LSTM: embedding 0.05,
// input 0.4, weight 0.5, hidden 0.3, output 0.4; transformer: 0.1), for fine-tuning.
nlohmann::json classifier_encoder_description(nlohmann::json description, double drop_mult);

// The token lengths of the training sequences, which decide head.pooling = "auto" and the
// positions of a positional head.
struct TrainLengths {
  std::size_t shortest = 0, longest = 0;
};

// The head's description from [head] and task.output_range: {pooling, positions,
// position_features, hidden_size, hidden_layers, dropout, output_range}. "auto" pooling resolves
// to "positions" when every training sequence has the same token length (aligned inputs) of at
// most kMaxAutoPositions tokens, else to "concat".
inline constexpr std::size_t kMaxAutoPositions = 2048;
nlohmann::json head_description(const config::Recipe& recipe, TrainLengths lengths);

// A classifier or regressor around `encoder` as model.json's "task" describes it: "outputs",
// "head" (head_description), "chunk" and "max_len". The head's first dropout is the encoder's
// output dropout. A head without "pooling" (model.json written before positional heads) pools.
std::shared_ptr<SequenceClassifier> make_classifier(std::shared_ptr<Encoder> encoder,
                                                    const nlohmann::json& task);

}  // namespace genolm::models
