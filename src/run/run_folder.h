#pragma once
// The run folder a training command writes: run.dir/<name>/ (runs/<name>/ by default). A run that
// has trained is never overwritten by a new one and is continued by --resume only with the recipe
// it started with; a folder whose run never reached a step (it stopped on a missing file, a wrong
// column...) is replaced by the next start, so the corrected command just works.

#include <filesystem>
#include <string>

#include "config/recipe.h"
#include "run/run_layout.h"

namespace genolm::run {

// run.name, else the stem of the recipe file (when there is one), else "run".
std::string run_name(const config::Recipe& recipe, const std::filesystem::path& recipe_file);

// The run folder a recipe names: run.dir / run_name.
RunLayout run_layout(const config::Recipe& recipe, const std::filesystem::path& recipe_file);

// Whether the run in `run` reached a step: it holds a checkpoint of any rank, exported weights
// (encoder.safetensors, language_model.safetensors, classifier.safetensors), a row in
// metrics.jsonl, or a run.json whose last_step is above 0. A run folder that has not trained holds
// nothing a new start cannot redo.
bool has_trained(const RunLayout& run);

// Creates or reopens the run folder the recipe names, writes config.toml (the keys `command`
// reads) and starts train.log there. A new run (resume false) replaces a folder whose run never
// trained, saying so in the log; it throws genolm::Error when the folder holds a run that has
// trained. With `resume` it throws when there is no run to resume, or when the recipe differs from
// the run's config.toml in a key `command` reads that the schema does not let a resumed run change.
RunLayout open_run_folder(const config::Recipe& recipe, const std::filesystem::path& recipe_file,
                          config::Command command, bool resume);

}  // namespace genolm::run
