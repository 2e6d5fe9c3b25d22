#pragma once
// One process per run folder. Two trainings writing one folder (two `--resume` at once, say) would
// leave run.json, metrics.jsonl and the checkpoints disagreeing, so the process that opens a run
// folder holds an exclusive lock on its `.lock` file until it exits; the kernel drops the lock when
// the process ends, however it ends, so a killed run never leaves a stale lock.

#include <filesystem>

namespace genolm::run {

// Takes the lock of `dir` (which must exist) for the rest of this process's life; taking it again
// in the same process is a no-op. Throws genolm::Error naming the folder, and the other process's
// pid, when another process holds it.
void lock_run_folder(const std::filesystem::path& dir);

}  // namespace genolm::run
