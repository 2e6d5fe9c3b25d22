// Commands whose names are taken now and whose work arrives in later versions. Those that read
// recipes already resolve and check them (--dump-config works), so recipes can be written and
// validated today; running them says plainly that training is not in this version.
#include <algorithm>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "genolm/error.h"

namespace genolm::cli {
namespace {

struct Reserved {
  const char* name;
  const char* summary;
  bool reads_recipe;
  bool available;  // served by genolm-train in this version
};

constexpr Reserved kReserved[] = {
    {"pretrain", "pretrain a language model on genomes", true, true},
    {"finetune", "fine-tune for classification or regression (ULMFiT)", true, true},
    {"predict", "predict with a fine-tuned model", false, true},
    {"evaluate", "metrics of a fine-tuned model on a labelled file", false, true},
    {"embed", "extract sequence embeddings", false, true},
    {"launch", "start data-parallel workers (torchrun-style)", false, true},
};

constexpr const char* kThisVersion =
    " yet; this version builds tokenizers and corpora, pretrains, fine-tunes, predicts, "
    "evaluates and embeds";

}  // namespace

std::optional<std::string> reserved_message(const std::string& command) {
  for (const auto& reserved : kReserved) {
    if (command == reserved.name && !reserved.available && !reserved.reads_recipe) {
      return "'genolm " + command + "' is not available in genolm " + GENOLM_VERSION + kThisVersion;
    }
  }
  return std::nullopt;
}

void register_torch_placeholders(CLI::App& app) {
  // genolm hands these commands to genolm-train before parsing; the entries only show in --help.
  for (const auto& reserved : kReserved) {
    app.add_subcommand(reserved.name, reserved.summary)->allow_extras();
  }
}

void register_reserved(CLI::App& app, Action& action, const std::vector<std::string>& names) {
  for (const auto& reserved : kReserved) {
    if (std::find(names.begin(), names.end(), reserved.name) == names.end()) continue;
    auto* command = app.add_subcommand(reserved.name, reserved.summary);
    auto recipe = std::make_shared<RecipeOptions>();
    if (reserved.reads_recipe) {
      recipe->add_to(*command);
    } else {
      // Their options belong to a later version: genolm-train answers before parsing them
      // (see reserved_message), so here they only need a name and a line of help.
      command->allow_extras();
    }
    const std::string name = reserved.name;
    command->callback([&action, recipe, name, reads_recipe = reserved.reads_recipe] {
      action = [recipe, name, reads_recipe] {
        if (reads_recipe) {
          const config::Recipe resolved = recipe->resolve();
          if (recipe->dump) {
            std::cout << resolved.dump();
            return 0;
          }
        }
        throw Error("'genolm " + name + "' is not available in genolm " + GENOLM_VERSION +
                    kThisVersion);
      };
    });
  }
}

}  // namespace genolm::cli
