#pragma once
// The files a resumed run reads again, pinned by content. Pretraining resumes from the corpus it
// built into its own folder, but fine-tuning (and each fold of a cross-validation) reads its task
// tables again when it resumes: a table edited between two sessions would train one run on two
// datasets, and the fold assignment of a cross-validation would no longer match the folds already
// trained. The SHA-256 of each task file is recorded in inputs.json when a run starts and compared
// when it resumes.

#include <filesystem>

#include <nlohmann/json.hpp>

#include "config/recipe.h"
#include "run/run_layout.h"

namespace genolm::run {

// {"task.train": {"path": ..., "sha256": ...}, ...} for the task files `command` reads again on
// resume (fine-tuning: task.train, task.valid, task.test); empty for other commands. Keys left
// empty, standard input ("-") and files that cannot be read are not pinned (the run's own reading
// reports a missing file). Throws genolm::Error when a file fails half way through.
nlohmann::json input_digests(const config::Recipe& recipe, config::Command command);

// Throws genolm::Error naming the key, the file and both digests when a file `recorded` pins has
// another content in `now` (or is no longer pinned: now missing, or the key now names another
// file, which the resume check of config.toml already refuses).
void check_inputs_unchanged(const RunLayout& run, const nlohmann::json& recorded,
                            const nlohmann::json& now);

}  // namespace genolm::run
