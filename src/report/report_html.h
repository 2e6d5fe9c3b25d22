#pragma once
// The run report: one report.html per run folder that opens in any browser, offline and years
// later. Everything is inline (SVG plots, a small style sheet); there is no script to run and
// nothing to fetch.

#include <filesystem>

namespace genolm::report {

// Reads <run_dir>/metrics.jsonl, config.toml and run.json and writes <run_dir>/report.html (by
// rename of a temporary file, so a reader never sees half a report). Missing, empty or malformed
// inputs do not stop it: the report says what is missing and shows the rest. Throws genolm::Error
// only when run_dir is not a folder or the report cannot be written.
void write_run_report(const std::filesystem::path& run_dir);

}  // namespace genolm::report
