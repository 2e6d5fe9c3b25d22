#include "run/run_folder.h"

#include <fstream>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>

#include "genolm/error.h"
#include "genolm/remove_tree.h"
#include "run/input_digests.h"
#include "run/pretrained_run.h"
#include "run/run_lock.h"
#include "util/files.h"
#include "util/log.h"

namespace genolm::run {
namespace {

bool holds_a_file(const std::filesystem::path& dir) {
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) return false;
  for (std::filesystem::recursive_directory_iterator entry(dir, error), end; !error && entry != end;
       entry.increment(error)) {
    if (entry->is_regular_file(error)) return true;
  }
  return false;
}

bool non_empty_file(const std::filesystem::path& file) {
  std::error_code error;
  const auto size = std::filesystem::file_size(file, error);
  return !error && size > 0;
}

// run.json's last_step, 0 when there is none (or no readable run.json).
std::int64_t last_step(const RunLayout& run) {
  std::ifstream in(run.run_json());
  if (!in) return 0;
  std::stringstream text;
  text << in.rdbuf();
  const auto json = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return 0;
  const auto step = json.find("last_step");
  return step != json.end() && step->is_number_integer() ? step->get<std::int64_t>() : 0;
}

// Removes what a start that never reached a step leaves in a run folder; files genolm does not
// write stay.
void remove_run_files(const RunLayout& run) {
  for (const auto& entry : {run.config(), run.run_json(), run.inputs(), run.model_card(),
                            run.tokenizer(), run.checkpoints(), run.corpus(), run.metrics(),
                            run.log(), run.report(), run.test_predictions()}) {
    std::error_code error;
    remove_tree(entry, error);
    if (error) {
      throw Error("cannot replace the run folder " + run.dir().string() + ": removing " +
                  entry.string() + " failed (" + error.message() + ")");
    }
  }
}

}  // namespace

std::string run_name(const config::Recipe& recipe, const std::filesystem::path& recipe_file) {
  if (const auto& name = recipe.string("run.name"); !name.empty()) {
    // A name, not a path: "../x" or "a/b" would put the run outside run.dir.
    if (name == "." || name == ".." || name.find('/') != std::string::npos ||
        name.find('\0') != std::string::npos) {
      throw Error("run.name '" + name +
                  "' must be a folder name, not a path (the parent folder is run.dir)");
    }
    return name;
  }
  if (!recipe_file.empty()) return recipe_file.stem().string();
  return "run";
}

RunLayout run_layout(const config::Recipe& recipe, const std::filesystem::path& recipe_file) {
  return RunLayout(std::filesystem::path(recipe.string("run.dir")) / run_name(recipe, recipe_file));
}

bool has_trained(const RunLayout& run) {
  for (const auto& weights :
       {run.encoder_weights(), run.language_model_weights(), run.classifier_weights()}) {
    if (existing_weights(weights)) return true;
  }
  return holds_a_file(run.checkpoints()) || non_empty_file(run.metrics()) || last_step(run) > 0;
}

RunLayout open_run_folder(const config::Recipe& recipe, const std::filesystem::path& recipe_file,
                          config::Command command, bool resume) {
  const RunLayout run = run_layout(recipe, recipe_file);
  if (resume && !std::filesystem::exists(run.config())) {
    throw Error("nothing to resume: " + run.dir().string() + " holds no run (no config.toml)");
  }
  // Locked before anything in it is read or replaced: another process may be training there.
  std::filesystem::create_directories(run.dir());
  lock_run_folder(run.dir());
  const bool exists = std::filesystem::exists(run.config());
  const bool replace = exists && !resume;
  if (replace && has_trained(run)) {
    throw Error("run folder " + run.dir().string() +
                " already exists: continue it with --resume, or set another run.name");
  }
  if (resume) {  // config.toml exists: checked before the lock
    config::Recipe saved;
    saved.merge_file(run.config());
    for (const auto& key : recipe.differences(saved, command)) {
      if (config::find_key(key)->may_change_on_resume()) continue;
      std::string message = "cannot resume " + run.dir().string() + ": recipe key '" + key +
                            "' differs from the run's config.toml (resume with the recipe the run "
                            "started with; only the length and reporting of training may change)";
      if (!has_trained(run)) {
        message += "; the run never reached a step, so a new start without --resume replaces it";
      }
      throw Error(message);
    }
  }
  const auto digests = input_digests(recipe, command);
  if (resume && std::filesystem::exists(run.inputs()))
    check_inputs_unchanged(run, read_json_file(run.inputs()), digests);
  if (replace) remove_run_files(run);
  std::filesystem::create_directories(run.dir());
  write_file_atomically(run.config(), dump_recipe(recipe, command));
  // A run of an earlier version, resumed, is pinned from now on.
  if (!resume || !std::filesystem::exists(run.inputs()))
    write_json_atomically(run.inputs(), digests);
  add_log_file(run.log().string());
  if (replace) {
    log("run")->info("run folder {} held a run that never reached a step: replaced by this one",
                     run.dir().string());
  }
  return run;
}

}  // namespace genolm::run
