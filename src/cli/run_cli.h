#pragma once
// The shared shell of genolm's executables: global options, subcommands, and errors that end as
// one line on stderr with a non-zero exit. Nothing a user types may abort the program.

#include <functional>

#include "cli/commands.h"

namespace genolm::cli {

using Registrar = std::function<void(CLI::App& app, Action& action, const GlobalOptions& globals)>;

int run_cli(int argc, char** argv, const Registrar& register_commands);

}  // namespace genolm::cli
