// genolm evaluate: a fine-tuned run folder + a labelled file -> the task's metrics, printed and
// written as JSON.
#include <ATen/Parallel.h>

#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/ensemble.h"
#include "cli/model_input.h"
#include "task/task.h"
#include "train/inference.h"
#include "util/files.h"
#include "util/log.h"

namespace genolm::cli {
namespace {

struct EvaluateFlags {
  ModelInputOptions input;
  std::string out = "metrics.json";
  std::string predictions;
  StrandFlags strands;
};

void print_metrics(const nlohmann::json& metrics) {
  for (const auto& [name, value] : metrics.items()) {
    if (name == "confusion" || name == "targets" || name == "labels") continue;
    std::cout << name << "\t" << (value.is_null() ? "NaN" : value.dump()) << "\n";
  }
  // Per regression target or per label: <name>.<metric>, one per line.
  for (const char* per : {"targets", "labels"}) {
    if (const auto found = metrics.find(per); found != metrics.end()) {
      for (const auto& [target, values] : found->items())
        for (const auto& [name, value] : values.items())
          std::cout << target << "." << name << "\t" << (value.is_null() ? "NaN" : value.dump())
                    << "\n";
    }
  }
  if (const auto found = metrics.find("confusion"); found != metrics.end())
    std::cout << "confusion\t" << found->dump() << "\n";
}

int run_evaluate(const EvaluateFlags& flags, const GlobalOptions& globals) {
  at::set_num_threads(globals.resolved_threads());
  const auto ensemble =
      predict_ensemble(flags.input, flags.strands, /*with_labels=*/true, "evaluate");
  const auto& examples = ensemble.examples;
  const auto& predictions = ensemble.predictions;
  const auto& task = *ensemble.lead.task;
  auto metrics = task.metrics(predictions, examples);
  metrics["examples"] = examples.size();
  metrics["precision"] = ensemble.lead.bf16 ? "bf16" : "fp32";
  metrics["input"] = flags.input.input;
  if (flags.input.models.size() == 1)
    metrics["model"] = flags.input.model();
  else
    metrics["models"] = flags.input.models;
  print_metrics(metrics);
  write_file_atomically(flags.out, metrics.dump(2) + "\n");
  if (!flags.predictions.empty())
    task::write_predictions(flags.predictions, task, examples, predictions);
  log("evaluate")->info("metrics of {} examples written to {}", examples.size(), flags.out);
  return 0;
}

}  // namespace

void register_evaluate(CLI::App& app, Action& action, const GlobalOptions& globals) {
  auto flags = std::make_shared<EvaluateFlags>();
  auto* command =
      app.add_subcommand("evaluate", "metrics of a fine-tuned model on a labelled file");
  flags->input.add_to(*command, ModelCount::many);
  command->add_option("--out", flags->out, "the metrics as JSON")->capture_default_str();
  command->add_option("--predictions", flags->predictions, "also write the predictions (TSV)");
  flags->strands.add_to(*command);
  command->callback([&action, &globals, flags] {
    action = [&globals, flags] { return run_evaluate(*flags, globals); };
  });
}

}  // namespace genolm::cli
