// genolm: one executable, one subcommand per job. Errors from anywhere end here as one line on
// stderr and a non-zero exit; nothing a user types may abort the program.

#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "genolm/error.h"
#include "util/log.h"

namespace {

std::string version_text() {
  return std::string("genolm ") + GENOLM_VERSION;
}

int run(int argc, char** argv) {
  CLI::App app{"genolm: genomic language models in the ULMFiT style, trained natively", "genolm"};
  app.set_version_flag("--version", version_text());
  app.require_subcommand(1);
  app.fallthrough();  // global options may come after the subcommand

  genolm::cli::GlobalOptions globals;
  app.add_option("--threads", globals.threads, "threads to use (default: every core)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--log-level", globals.log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();

  genolm::cli::Action action;
  genolm::cli::register_tokenizer(app, action, globals);
  genolm::cli::register_corpus(app, action, globals);
  genolm::cli::register_reserved(app, action, globals);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  genolm::set_log_level(globals.log_level);
  if (action) action();
  return EXIT_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const genolm::Error& e) {
    std::cerr << "genolm: error: " << e.what() << '\n';
  } catch (const std::filesystem::filesystem_error& e) {
    std::cerr << "genolm: error: " << e.what() << '\n';
  } catch (const std::bad_alloc&) {
    std::cerr << "genolm: error: out of memory\n";
  } catch (const std::exception& e) {
    // Anything else is a bug in genolm; still one line, never a stack dump.
    std::cerr << "genolm: internal error: " << e.what() << '\n';
  }
  return EXIT_FAILURE;
}
