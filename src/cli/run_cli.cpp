#include "cli/run_cli.h"

#include <cstdlib>
#include <iostream>

#include "genolm/error.h"
#include "util/log.h"

namespace genolm::cli {
namespace {

int parse_and_run(int argc, char** argv, const Registrar& register_commands) {
  CLI::App app{"genolm: genomic language models in the ULMFiT style, trained natively", "genolm"};
  app.set_version_flag("--version", std::string("genolm ") + GENOLM_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global options may come after the subcommand
  GlobalOptions globals;
  add_global_options(app, globals);
  Action action;
  register_commands(app, action, globals);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  set_log_level(globals.log_level);
  return action ? action() : EXIT_SUCCESS;
}

}  // namespace

std::optional<std::string> subcommand_of(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--threads" || word == "--log-level") {
      ++i;
      continue;
    }
    if (!word.empty() && word[0] == '-') continue;
    return word;
  }
  return std::nullopt;
}

int run_cli(int argc, char** argv, const Registrar& register_commands) {
  try {
    return parse_and_run(argc, argv, register_commands);
  } catch (const genolm::Error& e) {
    std::cerr << "genolm: error: " << e.what() << '\n';
  } catch (const std::filesystem::filesystem_error& e) {
    std::cerr << "genolm: error: " << e.what() << '\n';
  } catch (const std::bad_alloc&) {
    std::cerr << "genolm: error: out of memory\n";
  } catch (const std::exception& e) {
    // Anything else is a bug in genolm (or a LibTorch error it did not translate): still one line.
    std::string message = e.what();
    message = message.substr(0, message.find('\n'));
    std::cerr << "genolm: internal error: " << message << '\n';
  }
  return EXIT_FAILURE;
}

}  // namespace genolm::cli
