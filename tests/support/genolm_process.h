#pragma once
// Running the genolm binary from tests: to completion, or interrupted by a signal once a run has
// written a new checkpoint (for resume tests). Exit codes: the program's, or 128 + signal.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace genolm::test {

// The words of a command line split on spaces (no quoting): argv for execv without a shell.
std::vector<std::string> split_words(const std::string& command_line);

// Runs `command_line` through the shell with stdout and stderr sent to the two files.
int run_command(const std::string& command_line, const std::filesystem::path& out,
                const std::filesystem::path& err);

// The checkpoint (.safetensors) files directly in `dir` (0 when it does not exist).
long checkpoint_count(const std::filesystem::path& dir);

// Starts `command_line` (words split on spaces, no shell: one process, one pid), waits until
// `checkpoints` holds one more checkpoint file than before (at most two minutes), sends `signal`
// and returns how the process ended.
int interrupt_after_new_checkpoint(const std::string& command_line,
                                   const std::filesystem::path& checkpoints, int signal);

// A TCP port nobody listens on now: the kernel's pick for port 0 (so that tests running side by
// side under ctest -j never share a rendezvous).
int free_port();

// Every row of a metrics.jsonl.
std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& file);

}  // namespace genolm::test
