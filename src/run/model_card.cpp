#include "run/model_card.h"

#include "config/recipe.h"
#include "genolm/error.h"
#include "run/run_layout.h"
#include "util/files.h"

namespace genolm::run {
namespace {

// A version-1 card does not say which way its model reads; the run's recipe does (data.backward).
// Without a readable recipe the model reads forward, as every version-1 fine-tuned model does.
ReadingDirection direction_from_recipe(const std::filesystem::path& config) {
  if (!std::filesystem::exists(config)) return ReadingDirection::forward;
  try {
    config::Recipe recipe;
    recipe.merge_file(config);
    if (recipe.boolean("data.backward")) return ReadingDirection::backward;
  } catch (const Error&) {
    // An unreadable recipe says nothing about the model: forward, as most are.
  }
  return ReadingDirection::forward;
}

}  // namespace

nlohmann::json tokenizer_card(const tokenizers::Tokenizer& tokenizer) {
  nlohmann::json vocabulary = nlohmann::json::array();
  for (std::int32_t id = 0; id < tokenizer.vocab_size(); ++id)
    vocabulary.push_back(tokenizer.id_to_token(id));
  return {{"kind", tokenizer.kind()},
          {"parameters", tokenizer.parameters()},
          {"vocab_size", tokenizer.vocab_size()},
          {"vocabulary", std::move(vocabulary)}};
}

std::string direction_name(ReadingDirection direction) {
  return direction == ReadingDirection::forward ? "forward" : "backward";
}

void write_model_card(const std::filesystem::path& file, const ModelCard& card) {
  const RunLayout names("");
  nlohmann::json weights = nlohmann::json::object();
  if (card.fine_tuned()) {
    weights["classifier"] = names.classifier_weights().filename().string();
  } else {
    weights["encoder"] = names.encoder_weights().filename().string();
    if (card.has_language_model)
      weights["language_model"] = names.language_model_weights().filename().string();
  }
  write_json_atomically(file, {{"format", kModelCardFormat},
                               {"version", card.version},
                               {"produced_by", card.produced_by},
                               {"encoder", card.encoder},
                               {"tokenizer", card.tokenizer},
                               {"direction", direction_name(card.direction)},
                               {"task", card.task},
                               {"weights", weights}});
}

ModelCard read_model_card(const std::filesystem::path& file) {
  const nlohmann::json json = read_json_file(file);
  ModelCard card;
  try {
    if (!json.is_object()) throw Error(file.string() + ": expected a JSON object");
    if (!json.contains("encoder") || !json.at("encoder").is_object()) {
      throw Error(file.string() + ": \"encoder\" is missing or not an object");
    }
    card.encoder = json.at("encoder");
    card.task = json.value("task", nlohmann::json("language_model"));
    if (!card.task.is_object() && card.task != "language_model") {
      throw Error(file.string() + ": \"task\" is " + card.task.dump() +
                  " (expected \"language_model\" or a task object)");
    }
    if (!json.contains("version")) {  // version 1: {"encoder", "task"}
      card.version = 1;
      card.direction = direction_from_recipe(RunLayout(file.parent_path()).config());
      return card;
    }
    card.version = json.at("version").get<int>();
    if (json.value("format", std::string()) != kModelCardFormat) {
      throw Error(file.string() + ": \"format\" is not \"" + std::string(kModelCardFormat) + "\"");
    }
    if (card.version > kModelCardVersion) {
      throw Error(file.string() + " is a model card of version " + std::to_string(card.version) +
                  "; this genolm reads versions up to " + std::to_string(kModelCardVersion) +
                  " (update genolm)");
    }
    card.produced_by = json.value("produced_by", std::string());
    card.tokenizer = json.value("tokenizer", nlohmann::json());
    const std::string direction = json.value("direction", std::string("forward"));
    if (direction != "forward" && direction != "backward") {
      throw Error(file.string() + ": \"direction\" is \"" + direction +
                  "\" (expected forward or backward)");
    }
    card.direction =
        direction == "forward" ? ReadingDirection::forward : ReadingDirection::backward;
    const auto weights = json.value("weights", nlohmann::json::object());
    card.has_language_model = weights.contains("language_model");
  } catch (const nlohmann::json::exception& e) {
    throw Error(file.string() + " is malformed (" + std::string(e.what()) + ")");
  }
  return card;
}

}  // namespace genolm::run
