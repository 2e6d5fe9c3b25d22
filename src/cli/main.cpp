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
    // OpenMP threads that spin while they wait make two trainings on one machine starve each
    // other: with libgomp's default spin each kept 24% of its lone speed, 12% at 20,000 spins.
    // 1,000 spins keep each at 58% for 8% less alone; never spinning (OMP_WAIT_POLICY=passive)
    // keeps 83% but costs 25% alone (bench/RESULTS.md, bench/load_bench.py). libgomp reads this
    // when genolm-train starts; a wait policy or spin count the user set stands.
    if (std::getenv("OMP_WAIT_POLICY") == nullptr && std::getenv("GOMP_SPINCOUNT") == nullptr)
      setenv("GOMP_SPINCOUNT", "1000", /*overwrite=*/1);
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
        genolm::cli::register_export(app, action, globals);
        genolm::cli::register_torch_placeholders(app);
      });
}
