// genolm-train: the commands that need LibTorch. Users reach it through genolm, which hands these
// commands over unchanged; it also runs on its own.

#include "cli/run_cli.h"

int main(int argc, char** argv) {
  return genolm::cli::run_cli(
      argc, argv,
      [](CLI::App& app, genolm::cli::Action& action, const genolm::cli::GlobalOptions& globals) {
        genolm::cli::register_pretrain(app, action, globals);
        genolm::cli::register_finetune(app, action, globals);
        genolm::cli::register_predict(app, action, globals);
        genolm::cli::register_evaluate(app, action, globals);
        genolm::cli::register_embed(app, action, globals);
        genolm::cli::register_score(app, action, globals);
        genolm::cli::register_mutagenesis(app, action, globals);
        genolm::cli::register_variants(app, action, globals);
        genolm::cli::register_scan(app, action, globals);
        genolm::cli::register_launch(app, action, globals);
        genolm::cli::register_lr_find(app, action, globals);
      });
}
