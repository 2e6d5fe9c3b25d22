#pragma once
// The run folder a training command writes: runs/<name>/ (or run.dir/<name>/), never overwritten
// by a new run, continued by --resume only with the recipe it started with.

#include <filesystem>
#include <functional>
#include <string>

#include "cli/commands.h"
#include "config/recipe.h"

namespace genolm::cli {

// run.name, else the recipe file's stem, else "run".
std::string run_name(const config::Recipe& recipe, const RecipeOptions& options);

// Creates or reopens the run folder, writes config.toml and starts train.log there. Throws
// genolm::Error when a new run would replace an existing one, when --resume finds no run, or when
// a resumed recipe differs in a key that `may_change` does not allow.
std::filesystem::path open_run_folder(const config::Recipe& recipe, const RecipeOptions& options,
                                      bool resume,
                                      const std::function<bool(const std::string&)>& may_change);

}  // namespace genolm::cli
