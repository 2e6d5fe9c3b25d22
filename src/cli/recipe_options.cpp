#include <cstdlib>
#include <iostream>
#include <thread>

#include "cli/commands.h"

namespace genolm::cli {

int GlobalOptions::resolved_threads() const {
  if (threads > 0) return threads;
  // OMP_NUM_THREADS next: `genolm launch` and torchrun share the cores among workers that way.
  if (const char* omp = std::getenv("OMP_NUM_THREADS")) {
    const int value = std::atoi(omp);
    if (value > 0) return value;
  }
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void add_global_options(CLI::App& app, GlobalOptions& globals) {
  app.add_option("--threads", globals.threads, "threads to use (default: every core)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--log-level", globals.log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
}

void RecipeOptions::add_to(CLI::App& command) {
  command.add_option("--config", config_file, "recipe (TOML) to read")->type_name("FILE");
  command.add_option("--set", assignments, "override a recipe key: section.key=value (repeatable)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
  command.add_flag("--dump-config", dump, "print the resolved recipe as TOML and exit");
}

config::Recipe RecipeOptions::resolve(
    const std::function<void(config::Recipe&)>& apply_flags) const {
  config::Recipe recipe;
  if (!config_file.empty()) recipe.merge_file(config_file);
  if (apply_flags) apply_flags(recipe);
  for (const auto& assignment : assignments)
    recipe.set(assignment);
  return recipe;
}

}  // namespace genolm::cli
