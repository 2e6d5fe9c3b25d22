// genolm predict: a fine-tuned run folder + sequences -> one row of predictions per record.
#include <ATen/Parallel.h>

#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/ensemble.h"
#include "cli/model_input.h"
#include "task/task.h"
#include "train/inference.h"
#include "util/log.h"

namespace genolm::cli {
namespace {

struct PredictFlags {
  ModelInputOptions input;
  std::string out = "predictions.tsv";
  StrandFlags strands;
};

int run_predict(const PredictFlags& flags, const GlobalOptions& globals) {
  at::set_num_threads(globals.resolved_threads());
  const auto ensemble =
      predict_ensemble(flags.input, flags.strands, /*with_labels=*/false, "predict");
  task::write_predictions(flags.out, *ensemble.lead.task, ensemble.examples, ensemble.predictions);
  log("predict")->info("{} predictions{} written to {}", ensemble.examples.size(),
                       ensemble.members > 1
                           ? " (the mean of " + std::to_string(ensemble.members) + " models)"
                           : std::string(),
                       flags.out);
  return 0;
}

}  // namespace

void register_predict(CLI::App& app, Action& action, const GlobalOptions& globals) {
  auto flags = std::make_shared<PredictFlags>();
  auto* command = app.add_subcommand(
      "predict", "predict with a fine-tuned model: labels and class probabilities, or values");
  flags->input.add_to(*command, ModelCount::many);
  command->add_option("--out", flags->out, "the predictions, tab-separated")->capture_default_str();
  flags->strands.add_to(*command);
  command->callback([&action, &globals, flags] {
    action = [&globals, flags] { return run_predict(*flags, globals); };
  });
}

}  // namespace genolm::cli
