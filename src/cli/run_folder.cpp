#include "cli/run_folder.h"

#include "genolm/error.h"
#include "util/files.h"
#include "util/log.h"

namespace genolm::cli {

std::string run_name(const config::Recipe& recipe, const RecipeOptions& options) {
  if (!recipe.string("run.name").empty()) return recipe.string("run.name");
  if (!options.config_file.empty())
    return std::filesystem::path(options.config_file).stem().string();
  return "run";
}

std::filesystem::path open_run_folder(const config::Recipe& recipe, const RecipeOptions& options,
                                      bool resume,
                                      const std::function<bool(const std::string&)>& may_change) {
  const auto run_dir = std::filesystem::path(recipe.string("run.dir")) / run_name(recipe, options);
  const bool exists = std::filesystem::exists(run_dir / "config.toml");
  if (exists && !resume) {
    throw Error("run folder " + run_dir.string() +
                " already exists: continue it with --resume, or set another run.name");
  }
  if (!exists && resume) {
    throw Error("nothing to resume: " + run_dir.string() + " holds no run (no config.toml)");
  }
  if (exists) {
    config::Recipe saved;
    saved.merge_file(run_dir / "config.toml");
    for (const auto& key : recipe.differences(saved)) {
      if (!may_change(key)) {
        throw Error("cannot resume " + run_dir.string() + ": recipe key '" + key +
                    "' differs from the run's config.toml (resume with the recipe the run "
                    "started with; only the length and reporting of training may change)");
      }
    }
  }
  std::filesystem::create_directories(run_dir);
  write_file_atomically(run_dir / "config.toml", recipe.dump());
  add_log_file((run_dir / "train.log").string());
  return run_dir;
}

}  // namespace genolm::cli
