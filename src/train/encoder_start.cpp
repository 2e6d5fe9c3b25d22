#include "train/encoder_start.h"

#include <algorithm>
#include <optional>

#include "data/corpus_from_recipe.h"
#include "data/tokenizer_factory.h"
#include "genolm/error.h"
#include "models/model_factory.h"
#include "run/model_card.h"
#include "run/run_layout.h"

namespace genolm::train {
namespace {

std::string describe_tokenizer(const nlohmann::json& manifest) {
  std::string text = manifest.at("kind").get<std::string>();
  for (const auto& [key, value] : manifest.at("parameters").items())
    text += " " + key + "=" + value.dump();
  return text + " (" + std::to_string(manifest.at("vocab_size").get<int>()) + " tokens)";
}

// A recipe that names a tokenizer (tokenizer.path, or [tokenizer] keys away from their defaults)
// must name the one the encoder was pretrained with.
void check_same_tokenizer(const config::Recipe& recipe, const std::vector<std::string>& changed,
                          const nlohmann::json& encoder_manifest,
                          const std::filesystem::path& from) {
  bool names_one = !recipe.string("tokenizer.path").empty();
  for (const char* key :
       {"tokenizer.kind", "tokenizer.k", "tokenizer.stride", "tokenizer.vocab_size"}) {
    names_one = names_one || std::find(changed.begin(), changed.end(), key) != changed.end();
  }
  if (!names_one) return;
  nlohmann::json wanted;
  if (!recipe.string("tokenizer.path").empty()) {
    wanted = tokenizers::read_tokenizer_manifest(recipe.string("tokenizer.path"));
  } else {
    const auto made = data::tokenizer_from_recipe(recipe, {}, 1);
    wanted = {{"kind", made->kind()},
              {"parameters", made->parameters()},
              {"vocab_size", made->vocab_size()}};
  }
  if (wanted.at("kind") != encoder_manifest.at("kind") ||
      wanted.at("parameters") != encoder_manifest.at("parameters") ||
      wanted.at("vocab_size") != encoder_manifest.at("vocab_size")) {
    throw Error("encoder.from " + from.string() + " was pretrained with the tokenizer " +
                describe_tokenizer(encoder_manifest) + ", but the recipe asks for " +
                describe_tokenizer(wanted) +
                ": drop the [tokenizer] keys (the encoder's tokenizer comes along) or pretrain "
                "with this tokenizer");
  }
}

}  // namespace

EncoderStart encoder_start(const config::Recipe& recipe, int threads) {
  EncoderStart start;
  start.from = recipe.string("encoder.from");
  if (start.from.empty()) {
    start.tokenizer = data::tokenizer_from_recipe(recipe, {}, threads);
    start.description = models::encoder_description(recipe, start.tokenizer->vocab_size());
    if (recipe.boolean("encoder.backward")) start.direction = run::ReadingDirection::backward;
    return start;
  }
  // The architecture and sizes come with the pretrained encoder: a [model] key that would choose
  // them is not read, and saying so beats training something other than what the recipe says.
  // Keys at their defaults pass, so a run's own config.toml (which lists them) serves as a recipe.
  const auto changed = recipe.differences(config::Recipe());
  const run::RunLayout pretrained(start.from);
  for (const auto& key : changed) {
    if (key.starts_with("model.") && key != "model.drop_mult") {
      throw Error("recipe key '" + key + "' is not read by 'genolm finetune' when encoder.from " +
                  "names a pretraining run: the encoder's architecture and sizes come from " +
                  pretrained.model_card().string() + " (drop the key)");
    }
  }
  const std::optional<run::ModelCard> card =
      std::filesystem::exists(pretrained.model_card())
          ? std::optional(run::read_model_card(pretrained.model_card()))
          : std::nullopt;
  if (card && card->fine_tuned()) {
    throw Error("encoder.from " + start.from.string() +
                " is a fine-tuned run; name the pretraining run its encoder came from");
  }
  if (!card || !std::filesystem::exists(pretrained.encoder_weights())) {
    throw Error("encoder.from " + start.from.string() +
                " is not a pretraining run folder (expected model.json and encoder.pt there)");
  }
  check_same_tokenizer(recipe, changed, tokenizers::read_tokenizer_manifest(pretrained.tokenizer()),
                       start.from);
  start.tokenizer = tokenizers::load_tokenizer(pretrained.tokenizer());
  start.description = card->encoder;
  start.weights = pretrained.encoder_weights();
  start.direction = card->direction;
  if (recipe.is_set("encoder.backward") && recipe.boolean("encoder.backward") != start.backward()) {
    throw Error("encoder.backward = " +
                std::string(recipe.boolean("encoder.backward") ? "true" : "false") + " but " +
                start.from.string() + " is a " + run::direction_name(start.direction) +
                " language model: a fine-tuned model reads the way its encoder was pretrained");
  }
  return start;
}

}  // namespace genolm::train
