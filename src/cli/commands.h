#pragma once
// Each subcommand registers its options on the app and, when chosen, leaves its work in `action`;
// main() runs the action after parsing, once the global options have been applied. Command files
// stay thin: parse, then delegate to the library.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "config/recipe.h"

namespace genolm::cli {

// The chosen command's work; returns the process exit code.
using Action = std::function<int()>;

struct GlobalOptions {
  int threads = 0;  // 0: every core
  std::string log_level = "info";
  int resolved_threads() const;
};

// --config, --set and --dump-config on a command that reads recipes.
struct RecipeOptions {
  std::string config_file;
  std::vector<std::string> assignments;
  bool dump = false;

  void add_to(CLI::App& command);
  // Defaults, then the recipe file, then `apply_flags` (the command's own flags), then --set; a key
  // set for `command` that it does not read is an error (config::Recipe::check_read_by).
  config::Recipe resolve(config::Command command,
                         const std::function<void(config::Recipe&)>& apply_flags = {}) const;
};

// The recipe --config names: a file, else a shipped recipe of that name ("finetune/splice", with
// or without .toml) in an install's share/genolm/configs or the source tree's configs/. Throws
// genolm::Error listing where it looked.
std::filesystem::path find_recipe(const std::string& name);

// Global options (--threads, --log-level) on `app`.
void add_global_options(CLI::App& app, GlobalOptions& globals);

// Commands of the light executable (no LibTorch): build/genolm.
void register_tokenizer(CLI::App& app, Action& action, const GlobalOptions& globals);
void register_corpus(CLI::App& app, Action& action, const GlobalOptions& globals);
void register_export(CLI::App& app, Action& action, const GlobalOptions& globals);

// Commands that need LibTorch, served by build/genolm-train (genolm hands them over).
inline const std::vector<std::string> kTorchCommands = {
    "pretrain",    "finetune", "predict", "evaluate", "embed",  "score",
    "mutagenesis", "variants", "scan",    "launch",   "lr-find"};
void register_pretrain(CLI::App& app, Action& action, const GlobalOptions& globals);
void register_finetune(CLI::App& app, Action& action, const GlobalOptions& globals);
void register_predict(CLI::App& app, Action& action, const GlobalOptions& globals);
void register_evaluate(CLI::App& app, Action& action, const GlobalOptions& globals);
void register_embed(CLI::App& app, Action& action, const GlobalOptions& globals);
void register_score(CLI::App& app, Action& action, const GlobalOptions& globals);
void register_mutagenesis(CLI::App& app, Action& action, const GlobalOptions& globals);
void register_variants(CLI::App& app, Action& action, const GlobalOptions& globals);
void register_scan(CLI::App& app, Action& action, const GlobalOptions& globals);
void register_launch(CLI::App& app, Action& action, const GlobalOptions& globals);
void register_lr_find(CLI::App& app, Action& action, const GlobalOptions& globals);
// Placeholders in genolm's own help for the commands genolm-train serves.
void register_torch_placeholders(CLI::App& app);

}  // namespace genolm::cli
