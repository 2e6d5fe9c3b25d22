// genolm-train: the commands that need LibTorch. Users reach it through genolm, which hands these
// commands over unchanged; it also runs on its own.

#include <algorithm>
#include <iostream>
#include <string>

#include "cli/run_cli.h"

int main(int argc, char** argv) {
  // Reserved commands answer before parsing, whatever options they were given.
  if (const auto command = genolm::cli::subcommand_of(argc, argv)) {
    if (const auto message = genolm::cli::reserved_message(*command)) {
      const bool help = std::any_of(argv, argv + argc, [](const char* word) {
        return std::string(word) == "--help" || std::string(word) == "-h";
      });
      if (!help) {
        std::cerr << "genolm: error: " << *message << '\n';
        return 1;
      }
    }
  }
  return genolm::cli::run_cli(
      argc, argv,
      [](CLI::App& app, genolm::cli::Action& action, const genolm::cli::GlobalOptions& globals) {
        genolm::cli::register_pretrain(app, action, globals);
        genolm::cli::register_finetune(app, action, globals);
        genolm::cli::register_predict(app, action, globals);
        genolm::cli::register_evaluate(app, action, globals);
        genolm::cli::register_embed(app, action, globals);
        genolm::cli::register_launch(app, action, globals);
      });
}
