// genolm launch: data-parallel training on one or more nodes, torchrun-style. Each worker is this
// program again (genolm-train) running the command after '--', with RANK, WORLD_SIZE and the
// master's address in its environment; the launcher itself loads no model.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "dist/launcher.h"
#include "genolm/error.h"

namespace genolm::cli {
namespace {

struct LaunchFlags {
  dist::LaunchOptions options;
  std::vector<std::string> worker;  // the command after '--'
};

constexpr const char* kExample = "'genolm launch --nproc 2 -- pretrain --config recipe.toml'";

std::filesystem::path this_program() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error("launch: cannot find this program's path (/proc/self/exe): " + ec.message());
  return self;
}

std::vector<std::string> worker_argv(const LaunchFlags& flags, const CLI::App& app,
                                     const GlobalOptions& globals) {
  if (flags.worker.empty()) {
    throw Error(
        "launch needs the worker command after '--' (pretrain, finetune or variants), e.g. " +
        std::string(kExample));
  }
  const std::string& command = flags.worker.front();
  if (command != "pretrain" && command != "finetune" && command != "variants") {
    throw Error("launch runs pretrain, finetune or variants workers, not '" + command + "' (e.g. " +
                std::string(kExample) + ")");
  }
  std::vector<std::string> argv = {this_program().string()};
  // Without --threads each worker takes the share of the cores that the launcher puts in its
  // OMP_NUM_THREADS.
  if (app.get_option("--threads")->count() > 0) {
    argv.insert(argv.end(), {"--threads", std::to_string(globals.threads)});
  }
  if (app.get_option("--log-level")->count() > 0) {
    argv.insert(argv.end(), {"--log-level", globals.log_level});
  }
  argv.insert(argv.end(), flags.worker.begin(), flags.worker.end());
  return argv;
}

}  // namespace

void register_launch(CLI::App& app, Action& action, const GlobalOptions& globals) {
  auto flags = std::make_shared<LaunchFlags>();
  auto* command = app.add_subcommand("launch", "start data-parallel workers (torchrun-style)");
  command->footer(
      "Everything after '--' is the worker command, run by each worker with RANK, WORLD_SIZE,\n"
      "LOCAL_RANK, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR and MASTER_PORT set, e.g.\n"
      "  genolm launch --nproc 2 -- pretrain --config recipe.toml\n"
      "  genolm launch --nproc 4 --nnodes 2 --node-rank 1 --master-addr node0 -- finetune ...");
  auto& options = flags->options;
  command->add_option("--nproc", options.nproc, "workers on this node")->capture_default_str();
  command->add_option("--nnodes", options.nnodes, "nodes in the job (one launcher on each)")
      ->capture_default_str();
  command->add_option("--node-rank", options.node_rank, "this node's index, 0 to nnodes-1")
      ->capture_default_str();
  command->add_option("--master-addr", options.master_addr, "host of rank 0")
      ->capture_default_str();
  command->add_option("--master-port", options.master_port, "port of rank 0")
      ->capture_default_str();
  // CLI11 hands every word after '--' to this positional, options included.
  command
      ->add_option("command", flags->worker,
                   "after '--': pretrain, finetune or variants and its options")
      ->type_name("COMMAND...");
  command->callback([&action, &app, &globals, flags] {
    action = [&app, &globals, flags] {
      return dist::launch(flags->options, worker_argv(*flags, app, globals));
    };
  });
}

}  // namespace genolm::cli
