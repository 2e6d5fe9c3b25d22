#pragma once
// A pretraining run another run starts from: fine-tuning's encoder.from (its encoder) and
// pretraining's init.from (ULMFiT's stage 2: its whole language model). What the recipe may say
// beside it is checked here, once for both: the architecture and sizes come from the run's
// model.json, so a [model] key that would choose them is an error, and the tokenizer comes from
// its tokenizer/, so a recipe that asks for another one is an error naming both.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/recipe.h"
#include "genolm/tokenizers/tokenizer.h"
#include "run/model_card.h"
#include "run/run_layout.h"

namespace genolm::run {

// How a command starts from a pretraining run.
struct PretrainedRunUse {
  std::string key;      // the recipe key naming the run: "encoder.from", "init.from"
  std::string command;  // "genolm finetune", "genolm pretrain"
  // [model] keys the command still reads beside the run (fine-tuning's model.drop_mult).
  std::vector<std::string> model_keys_read;
  // Which weights it needs: the whole language model (language_model.safetensors) or the encoder.
  bool whole_language_model = false;
};

struct PretrainedRun {
  RunLayout layout{""};
  ModelCard card;
  std::filesystem::path
      weights;  // encoder.safetensors or language_model.safetensors, as the use asks
  // Whether `weights` is the whole language model, also where the use asks for the encoder alone:
  // a folder that keeps only language_model.safetensors (a shipped model, half the size) serves
  // both uses.
  bool weights_hold_language_model = false;
};

// Opens the run the recipe's `use.key` names. Throws genolm::Error when it is not a pretraining
// run folder (or a fine-tuned one), lacks the weights the use needs, or when the recipe sets a
// [model] key the use does not read or names another tokenizer.
PretrainedRun open_pretrained_run(const config::Recipe& recipe, const PretrainedRunUse& use);

// ULMFiT's stage 2: init.from names a run whose whole language model (architecture, dropouts,
// weights, tokenizer) `command` continues from; no [model] key is read beside it.
inline PretrainedRunUse language_model_use(std::string command) {
  return {.key = "init.from",
          .command = std::move(command),
          .model_keys_read = {},
          .whole_language_model = true};
}

// Fine-tuning: encoder.from names a run whose encoder (architecture, sizes, weights, tokenizer)
// `command` fine-tunes; fine-tuning's own dropouts are model.drop_mult times fastai's classifier
// dropouts, so that one [model] key is still read.
inline PretrainedRunUse encoder_use(std::string command) {
  return {.key = "encoder.from",
          .command = std::move(command),
          .model_keys_read = {"model.drop_mult"},
          .whole_language_model = false};
}

// The pretraining run a recipe for `command` starts from, when it names one: fine-tuning's
// encoder.from, pretraining's init.from; nothing for other commands or when the key is empty.
std::optional<PretrainedRunUse> pretrained_run_use(const config::Recipe& recipe,
                                                   config::Command command);

// The recipe as `command` reads it (a run's config.toml, --dump-config). When it starts from a
// pretraining run, the [model] keys that run supplies, and the [tokenizer] keys the recipe leaves
// at their defaults, are written as comments naming the run: their defaults were never used.
std::string dump_recipe(const config::Recipe& recipe, config::Command command);

std::unique_ptr<tokenizers::Tokenizer> load_tokenizer(const PretrainedRun& run);

// "kmer k=3 stride=1 (71 tokens)", from a tokenizer manifest: for errors that compare two.
std::string describe_tokenizer(const nlohmann::json& manifest);

// Whether two tokenizer manifests give the same ids (kind, parameters, vocabulary size).
bool same_tokenizer(const nlohmann::json& a, const nlohmann::json& b);

}  // namespace genolm::run
