// genolm export: a run's model as safetensors + config.json, loadable from Python without genolm.
#include <memory>

#include "cli/commands.h"
#include "run/model_export.h"
#include "util/log.h"

namespace genolm::cli {

void register_export(CLI::App& app, Action& action, const GlobalOptions& /*globals*/) {
  auto options = std::make_shared<run::ExportOptions>();
  auto* command = app.add_subcommand(
      "export",
      "write a run's model as model.safetensors + config.json (python/genolm_export.py loads it)");
  command->add_option("--model", options->run, "run folder (pretraining or fine-tuned)")
      ->type_name("RUN")
      ->required();
  command->add_option("--out", options->out, "export folder to write")
      ->type_name("DIR")
      ->required();
  command->add_flag("--overwrite", options->overwrite, "replace an existing export folder");
  command->callback([&action, options] {
    action = [options] {
      const auto config = run::export_model(*options);
      log("export")->info("{} ({}, {} {}) exported to {}", options->run.string(),
                          config.at("model").get<std::string>(),
                          config.at("encoder").value("arch", "?"),
                          config.at("direction").get<std::string>(), options->out.string());
      return 0;
    };
  });
}

}  // namespace genolm::cli
