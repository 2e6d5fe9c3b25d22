#pragma once
// Each subcommand registers its options on the app and, when chosen, leaves its work in `action`;
// main() runs the action after parsing, once the global options have been applied. Command files
// stay thin: parse, then delegate to the library.

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "config/recipe.h"

namespace genolm::cli {

using Action = std::function<void()>;

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
  // Defaults, then the recipe file, then `apply_flags` (the command's own flags), then --set.
  config::Recipe resolve(const std::function<void(config::Recipe&)>& apply_flags = {}) const;
};

void register_tokenizer(CLI::App& app, Action& action, const GlobalOptions& globals);
void register_corpus(CLI::App& app, Action& action, const GlobalOptions& globals);
void register_reserved(CLI::App& app, Action& action, const GlobalOptions& globals);

}  // namespace genolm::cli
