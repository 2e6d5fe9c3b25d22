// genolm: one command line for every job. This executable does not load LibTorch (which costs
// half a second at every start); it serves the tokenizer and corpus commands itself and hands the
// training commands to genolm-train, its sibling in the same folder, by exec.

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include "cli/run_cli.h"

namespace {

std::filesystem::path train_binary() {
  if (const char* path = std::getenv("GENOLM_TRAIN_BINARY"); path != nullptr && *path != '\0') {
    return path;
  }
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (ec ? std::filesystem::path(".") : self.parent_path()) / "genolm-train";
}

}  // namespace

int main(int argc, char** argv) {
  const auto command = genolm::cli::subcommand_of(argc, argv);
  const auto& torch_commands = genolm::cli::kTorchCommands;
  if (command &&
      std::find(torch_commands.begin(), torch_commands.end(), *command) != torch_commands.end()) {
    const auto binary = train_binary();
    execv(binary.c_str(), argv);
    std::cerr << "genolm: error: cannot run " << binary.string() << " for '" << *command
              << "': " << std::strerror(errno) << " (build it with scripts/setup)\n";
    return EXIT_FAILURE;
  }
  return genolm::cli::run_cli(
      argc, argv,
      [](CLI::App& app, genolm::cli::Action& action, const genolm::cli::GlobalOptions& globals) {
        genolm::cli::register_tokenizer(app, action, globals);
        genolm::cli::register_corpus(app, action, globals);
        genolm::cli::register_torch_placeholders(app);
      });
}
