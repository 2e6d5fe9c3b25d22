#include <iostream>

#include "cli/commands.h"
#include "dist/launcher.h"

namespace genolm::cli {

int GlobalOptions::resolved_threads() const {
  // Then OMP_NUM_THREADS (how `genolm launch` and torchrun share the cores among workers), then
  // every core this process may run on.
  return threads > 0 ? threads : dist::threads_per_worker(1);
}

void add_global_options(CLI::App& app, GlobalOptions& globals) {
  app.add_option("--threads", globals.threads,
                 "threads to use (default: OMP_NUM_THREADS, else every core)")
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
    config::Command command, const std::function<void(config::Recipe&)>& apply_flags) const {
  config::Recipe recipe;
  if (!config_file.empty()) recipe.merge_file(config_file);
  if (apply_flags) apply_flags(recipe);
  for (const auto& assignment : assignments)
    recipe.set(assignment);
  recipe.check_read_by(command);
  return recipe;
}

}  // namespace genolm::cli
