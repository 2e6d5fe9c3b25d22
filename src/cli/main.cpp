// genolm: one command line for every job. This executable does not load LibTorch (which costs
// half a second at every start); it serves the tokenizer, corpus and export commands itself and
// hands the training commands to genolm-train by exec: its sibling in the same folder (the build
// tree, or an install's bin/), else the one of the build this binary came from (a genolm copied
// elsewhere), else the first on PATH.

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/run_cli.h"

namespace {

// Where genolm-train may be, in the order tried; GENOLM_TRAIN_BINARY alone when set.
std::vector<std::filesystem::path> train_binary_candidates() {
  if (const char* path = std::getenv("GENOLM_TRAIN_BINARY"); path != nullptr && *path != '\0') {
    return {path};
  }
  std::vector<std::filesystem::path> candidates;
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back(self.parent_path() / "genolm-train");
  candidates.emplace_back(GENOLM_TRAIN_BUILD_PATH);
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    std::string_view rest = path;
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const auto folder = rest.substr(0, colon);
      if (!folder.empty()) candidates.push_back(std::filesystem::path(folder) / "genolm-train");
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    }
  }
  return candidates;
}

std::optional<std::filesystem::path> train_binary(std::string& tried) {
  for (const auto& candidate : train_binary_candidates()) {
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    tried += "\n  " + candidate.string();
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  const auto command = genolm::cli::subcommand_of(argc, argv);
  const auto& torch_commands = genolm::cli::kTorchCommands;
  if (command &&
      std::find(torch_commands.begin(), torch_commands.end(), *command) != torch_commands.end()) {
    std::string tried;
    const auto found = train_binary(tried);
    if (!found) {
      std::cerr << "genolm: error: '" << *command
                << "' is served by genolm-train, which is in none of these places:" << tried
                << "\n(install both with 'cmake --install build --prefix P', or set "
                   "GENOLM_TRAIN_BINARY)\n";
      return EXIT_FAILURE;
    }
    const auto& binary = *found;
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
