#pragma once
// Logging by area: log("data")->info(...) prints "[2026-12-01 12:00:01] [data] ...", so a line says
// which part of genolm spoke. One stderr sink for everything, plus the run's train.log when one is
// open (the same lines, the same timestamps); the level is set once from --log-level.

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace genolm {

std::shared_ptr<spdlog::logger> log(const std::string& area);

// A logger whose lines go to the run logs only: what a terminal shows another way (the progress
// bar's steps) still reaches train.log.
std::shared_ptr<spdlog::logger> log_file_only(const std::string& area);

// Copies every log line (all levels at or above the current one) into `file` as well, appending.
void add_log_file(const std::string& file);
// Stops copying log lines into `file` (added by add_log_file): a process that runs several runs
// one after another (the folds of a cross-validation) keeps each run's lines in its own log.
void remove_log_file(const std::string& file);

// "trace", "debug", "info", "warn", "error" or "off"; throws genolm::Error for anything else.
void set_log_level(const std::string& level);

// Tags every line with the rank, for the workers of a data-parallel job.
void set_log_rank(int rank);

}  // namespace genolm
