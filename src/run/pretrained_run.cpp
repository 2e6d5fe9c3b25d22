#include "run/pretrained_run.h"

#include <algorithm>

#include "data/corpus_from_recipe.h"
#include "genolm/error.h"
#include "run/model_export.h"

namespace genolm::run {
namespace {

bool contains(const std::vector<std::string>& keys, const std::string& key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// A recipe that names a tokenizer (tokenizer.path, or [tokenizer] keys away from their defaults)
// must name the one the run was pretrained with: token ids mean nothing to another vocabulary.
void check_same_tokenizer(const config::Recipe& recipe, const std::vector<std::string>& changed,
                          const nlohmann::json& pretrained, const PretrainedRunUse& use,
                          const std::filesystem::path& from) {
  bool names_one = !recipe.string("tokenizer.path").empty();
  for (const char* key :
       {"tokenizer.kind", "tokenizer.k", "tokenizer.stride", "tokenizer.vocab_size"}) {
    names_one = names_one || contains(changed, key);
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
  if (!same_tokenizer(wanted, pretrained)) {
    throw Error(use.key + " " + from.string() + " was pretrained with the tokenizer " +
                describe_tokenizer(pretrained) + ", but the recipe asks for " +
                describe_tokenizer(wanted) + ": drop the [tokenizer] keys (the " +
                (use.whole_language_model ? "language model's" : "encoder's") +
                " tokenizer comes along) or pretrain with this tokenizer");
  }
}

}  // namespace

std::string describe_tokenizer(const nlohmann::json& manifest) {
  std::string text = manifest.at("kind").get<std::string>();
  for (const auto& [key, value] : manifest.at("parameters").items())
    text += " " + key + "=" + value.dump();
  return text + " (" + std::to_string(manifest.at("vocab_size").get<int>()) + " tokens)";
}

bool same_tokenizer(const nlohmann::json& a, const nlohmann::json& b) {
  return a.at("kind") == b.at("kind") && a.at("parameters") == b.at("parameters") &&
         a.at("vocab_size") == b.at("vocab_size");
}

PretrainedRun open_pretrained_run(const config::Recipe& recipe, const PretrainedRunUse& use) {
  const std::filesystem::path from = recipe.string(use.key);
  PretrainedRun run;
  run.layout = RunLayout(from);
  // Keys at their defaults pass, so a run's own config.toml (which lists them) serves as a recipe.
  const auto changed = recipe.differences(config::Recipe());
  for (const auto& key : changed) {
    if (key.starts_with("model.") && !contains(use.model_keys_read, key)) {
      throw Error("recipe key '" + key + "' is not read by '" + use.command + "' when " + use.key +
                  " names a pretraining run: the " +
                  (use.whole_language_model ? "language model's architecture, sizes and dropouts"
                                            : "encoder's architecture and sizes") +
                  " come from " + run.layout.model_card().string() + " (drop the key)");
    }
  }
  const auto card_file = run.layout.model_card();
  const bool has_card = std::filesystem::exists(card_file);
  if (has_card) run.card = read_model_card(card_file);
  if (has_card && run.card.fine_tuned()) {
    throw Error(use.key + " " + from.string() +
                " is a fine-tuned run; name the pretraining run its encoder came from");
  }
  const auto weights =
      use.whole_language_model ? run.layout.language_model_weights() : run.layout.encoder_weights();
  auto saved = existing_weights(weights);
  run.weights_hold_language_model = use.whole_language_model;
  if (has_card && is_export(from)) {
    // An export keeps one weight file: the language model, or the encoder alone.
    saved = existing_weights(from / kExportWeightsName);
    run.weights_hold_language_model = run.card.has_language_model;
    if (use.whole_language_model && !run.card.has_language_model) saved.reset();
  } else if (!saved && !use.whole_language_model && has_card && run.card.has_language_model) {
    saved = existing_weights(run.layout.language_model_weights());
    run.weights_hold_language_model = saved.has_value();
  }
  if (!has_card || !saved) {
    throw Error(use.key + " " + from.string() + " is not a pretraining run folder (expected " +
                "model.json and " + weights.filename().string() + " there)");
  }
  run.weights = *saved;
  check_same_tokenizer(recipe, changed, tokenizers::read_tokenizer_manifest(run.layout.tokenizer()),
                       use, from);
  return run;
}

std::optional<PretrainedRunUse> pretrained_run_use(const config::Recipe& recipe,
                                                   config::Command command) {
  const auto name = config::command_name(command);
  std::optional<PretrainedRunUse> use;
  if (command == config::Command::finetune) use = encoder_use(name);
  if (command == config::Command::pretrain) use = language_model_use(name);
  if (use && recipe.string(use->key).empty()) use.reset();
  return use;
}

std::string dump_recipe(const config::Recipe& recipe, config::Command command) {
  const auto use = pretrained_run_use(recipe, command);
  if (!use) return recipe.dump(command);
  const std::string from = use->key + " (" + recipe.string(use->key) + ")";
  const auto changed = recipe.differences(config::Recipe());
  std::map<std::string, std::string> supplied;
  for (const auto& spec : config::recipe_schema()) {
    const std::string key(spec.key);
    // open_pretrained_run refuses a [model] key the use does not read, unless at its default.
    if (key.starts_with("model.") && !contains(use->model_keys_read, key)) {
      supplied[key] = "from the model.json of " + from;
    }
    // A [tokenizer] key away from its default was checked against the run's tokenizer: it stays.
    if (key.starts_with("tokenizer.") && !contains(changed, key)) {
      supplied[key] = "from the tokenizer of " + from;
    }
  }
  return recipe.dump(command, supplied);
}

std::unique_ptr<tokenizers::Tokenizer> load_tokenizer(const PretrainedRun& run) {
  return tokenizers::load_tokenizer(run.layout.tokenizer());
}

}  // namespace genolm::run
