// genolm predict: a fine-tuned run folder + sequences -> one row of predictions per record.
#include <ATen/Parallel.h>

#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/model_input.h"
#include "genolm/error.h"
#include "train/inference.h"
#include "util/log.h"

namespace genolm::cli {
namespace {

struct PredictFlags {
  ModelInputOptions input;
  std::string out = "predictions.tsv";
  bool rc_average = false;
  bool no_rc_average = false;
};

int run_predict(const PredictFlags& flags, const GlobalOptions& globals) {
  at::set_num_threads(globals.resolved_threads());
  auto folder = train::load_model_folder(flags.input.model);
  if (!folder.fine_tuned()) {
    throw Error(flags.input.model +
                " is a pretraining run: predict needs a fine-tuned run (use "
                "'genolm embed' for a language model's embeddings)");
  }
  const bool rc_average = (folder.rc_average || flags.rc_average) && !flags.no_rc_average;
  const auto examples = read_examples(flags.input, folder, /*with_labels=*/false, rc_average);
  const auto predictions =
      train::predict(*folder.classifier, examples, folder.scheme, folder.scaling,
                     {.batch_size = flags.input.batch_size,
                      .autocast = folder.bf16 && folder.transformer(),
                      .rc_average = rc_average});
  train::write_predictions(flags.out, folder.scheme, examples, predictions);
  log("predict")->info("{} predictions written to {}", examples.size(), flags.out);
  return 0;
}

}  // namespace

void register_predict(CLI::App& app, Action& action, const GlobalOptions& globals) {
  auto flags = std::make_shared<PredictFlags>();
  auto* command = app.add_subcommand(
      "predict", "predict with a fine-tuned model: labels and class probabilities, or values");
  flags->input.add_to(*command);
  command->add_option("--out", flags->out, "the predictions, tab-separated")->capture_default_str();
  command->add_flag("--rc-average", flags->rc_average,
                    "average over both DNA strands (default: as the model was fine-tuned)");
  command->add_flag("--no-rc-average", flags->no_rc_average, "read the given strand only");
  command->callback([&action, &globals, flags] {
    action = [&globals, flags] { return run_predict(*flags, globals); };
  });
}

}  // namespace genolm::cli
