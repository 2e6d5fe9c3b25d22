#pragma once
// The shared shell of genolm's executables: global options, subcommands, and errors that end as
// one line on stderr with a non-zero exit. Nothing a user types may abort the program.

#include <functional>
#include <optional>
#include <string>

#include "cli/commands.h"

namespace genolm::cli {

using Registrar = std::function<void(CLI::App& app, Action& action, const GlobalOptions& globals)>;

int run_cli(int argc, char** argv, const Registrar& register_commands);

// The subcommand named on the command line, skipping global options and their values.
std::optional<std::string> subcommand_of(int argc, char** argv);

}  // namespace genolm::cli
