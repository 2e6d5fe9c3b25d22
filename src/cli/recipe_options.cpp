#include <iostream>

#include "cli/commands.h"
#include "dist/launcher.h"
#include "genolm/error.h"

namespace genolm::cli {
namespace {

// Where shipped recipes are: an install's share/genolm/configs beside bin/, and the source tree
// this binary was built from.
std::vector<std::filesystem::path> shipped_recipe_folders() {
  std::vector<std::filesystem::path> folders;
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) folders.push_back(self.parent_path() / ".." / "share" / "genolm" / "configs");
  folders.emplace_back(GENOLM_RECIPES_SOURCE_DIR);
  return folders;
}

}  // namespace

std::filesystem::path find_recipe(const std::string& name) {
  if (std::filesystem::exists(name)) return name;
  const std::filesystem::path wanted(name);
  if (!wanted.is_absolute()) {
    for (const auto& folder : shipped_recipe_folders()) {
      for (const auto& candidate : {folder / wanted, folder / (name + ".toml")})
        if (std::filesystem::is_regular_file(candidate)) return candidate.lexically_normal();
    }
  }
  std::string where;
  for (const auto& folder : shipped_recipe_folders())
    where += (where.empty() ? "" : ", ") + folder.lexically_normal().string();
  throw Error(name + ": no such recipe file, nor a shipped recipe of that name (looked in " +
              where + "; e.g. --config finetune/splice)");
}

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
  command
      .add_option("--config", config_file,
                  "recipe (TOML) to read: a file, or a shipped recipe's name (finetune/splice)")
      ->type_name("FILE")
      ->transform([](std::string name) { return find_recipe(name).string(); }, "", "");
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
