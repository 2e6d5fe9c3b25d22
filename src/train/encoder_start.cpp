#include "train/encoder_start.h"

#include "data/corpus_from_recipe.h"
#include "genolm/error.h"
#include "models/model_factory.h"
#include "run/pretrained_run.h"

namespace genolm::train {

EncoderStart encoder_start(const config::Recipe& recipe, int threads) {
  EncoderStart start;
  const auto use = run::pretrained_run_use(recipe, config::Command::finetune);
  if (!use) {
    start.tokenizer = data::tokenizer_from_recipe(recipe, {}, threads);
    start.description = models::encoder_description(recipe, start.tokenizer->vocab_size());
    if (recipe.boolean("encoder.backward")) start.direction = run::ReadingDirection::backward;
    return start;
  }
  // The architecture and sizes come with the pretrained encoder (run::encoder_use).
  start.from = recipe.string(use->key);
  const auto pretrained = run::open_pretrained_run(recipe, *use);
  start.tokenizer = run::load_tokenizer(pretrained);
  start.description = pretrained.card.encoder;
  start.weights = pretrained.weights;
  start.weights_hold_language_model = pretrained.weights_hold_language_model;
  start.direction = pretrained.card.direction;
  if (recipe.is_set("encoder.backward") && recipe.boolean("encoder.backward") != start.backward()) {
    throw Error(
        "encoder.backward = " + std::string(recipe.boolean("encoder.backward") ? "true" : "false") +
        " but " + start.from.string() + " is a " + run::direction_name(start.direction) +
        " language model: a fine-tuned model reads the way its encoder was pretrained");
  }
  return start;
}

}  // namespace genolm::train
