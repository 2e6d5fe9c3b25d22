// genolm score: a pretraining run's language model + sequences -> how likely the model finds each
// record, the zero-shot fitness of a whole sequence (a protein mutant, an antibody variant). The
// input streams through in blocks, so its size is bounded by the disk, not memory; rows keep the
// input's order.
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <memory>

#include "cli/commands.h"
#include "cli/model_input.h"
#include "genolm/error.h"
#include "io/labelled.h"
#include "io/streamed_file.h"
#include "io/tsv_field.h"
#include "train/sequence_likelihood.h"
#include "util/log.h"

namespace genolm::cli {
namespace {

struct ScoreFlags {
  ModelInputOptions input;
  std::string out = "scores.tsv";
  bool rc_average = false;
};

train::ModelFolder load_language_model(const ModelInputOptions& input) {
  auto folder = input.load_folder(input.model());
  if (folder.fine_tuned()) {
    throw Error(input.model() +
                " is a fine-tuned run: its language model's decoder was not kept, so it gives "
                "no likelihood; score with the pretraining run it was fine-tuned from");
  }
  if (!folder.language_model) {
    throw Error(input.model() + " holds an encoder only (" +
                folder.layout.encoder_weights().filename().string() +
                "), written before runs kept their whole language model: retrain it to score");
  }
  return folder;
}

int run_score(const ScoreFlags& flags, const GlobalOptions& globals) {
  at::set_num_threads(globals.resolved_threads());
  auto folder = load_language_model(flags.input);
  if (flags.rc_average && !folder.tokenizer->reverse_complement_applies()) {
    throw Error("--rc-average needs a DNA tokenizer; " + flags.input.model() + " reads proteins");
  }
  const train::LikelihoodOptions options{
      .batch_size = flags.input.batch_size, .chunk = folder.chunk, .autocast = folder.autocast()};

  io::StreamedFile out(flags.out);
  out.write("id\tlog_likelihood\tlog_likelihood_per_token\tlog_likelihood_per_base\n");
  const std::size_t total = for_each_block(
      flags.input, folder, flags.rc_average,
      [&](const std::vector<io::LabelledExample>& block, const data::TaskExamples& examples) {
        auto scores =
            train::sequence_log_likelihoods(*folder.language_model, examples.tokens, options);
        if (flags.rc_average) {
          scores = (scores + train::sequence_log_likelihoods(*folder.language_model,
                                                             examples.rc_tokens, options)) /
                   2;
        }
        const auto* values = scores.data_ptr<double>();
        std::string rows;
        for (std::size_t i = 0; i < examples.size(); ++i) {
          double tokens = static_cast<double>(examples.tokens[i].size());
          if (flags.rc_average)
            tokens = (tokens + static_cast<double>(examples.rc_tokens[i].size())) / 2;
          std::size_t bases = 0;
          for (const auto& sequence : block[i].sequences)
            bases += sequence.size();
          rows += io::tsv_field(examples.ids[i]) + '\t' + io::tsv_number(values[i]) + '\t' +
                  io::tsv_number(values[i] / tokens) + '\t' +
                  io::tsv_number(values[i] / static_cast<double>(bases)) + '\n';
        }
        out.write(rows);
      });
  if (total == 0) throw Error(flags.input.input + ": holds no records to score");
  out.finish();
  log("score")->info("{} records scored{}{} with {} -> {}", total,
                     flags.rc_average ? " (mean of both strands)" : "",
                     folder.backward() ? " (read backwards, as the model was trained)" : "",
                     flags.input.model(), flags.out == "-" ? "standard output" : flags.out);
  return 0;
}

}  // namespace

void register_score(CLI::App& app, Action& action, const GlobalOptions& globals) {
  auto flags = std::make_shared<ScoreFlags>();
  auto* command = app.add_subcommand(
      "score",
      "log-likelihood of each sequence under a pretraining run's language model (zero-shot "
      "fitness)");
  flags->input.add_to(*command);
  command
      ->add_option("--out", flags->out,
                   "tab-separated: id, log_likelihood (natural log), log_likelihood_per_token, "
                   "log_likelihood_per_base; - for standard output")
      ->capture_default_str();
  command->add_flag("--rc-average", flags->rc_average,
                    "the mean of both DNA strands' log-likelihoods");
  command->callback([&action, &globals, flags] {
    action = [&globals, flags] { return run_score(*flags, globals); };
  });
}

}  // namespace genolm::cli
