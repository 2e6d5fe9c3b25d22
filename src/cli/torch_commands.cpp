// The commands build/genolm hands to build/genolm-train (they need LibTorch), listed once more in
// genolm's own --help so that one program shows every command.
#include "cli/commands.h"

namespace genolm::cli {
namespace {

struct TorchCommand {
  const char* name;
  const char* summary;
};

constexpr TorchCommand kTorchCommandHelp[] = {
    {"pretrain", "pretrain a language model on genomes"},
    {"finetune", "fine-tune for classification or regression (ULMFiT)"},
    {"predict", "predict with a fine-tuned model"},
    {"evaluate", "metrics of a fine-tuned model on a labelled file"},
    {"embed", "extract sequence embeddings"},
    {"score", "log-likelihood of sequences under a language model (zero-shot fitness)"},
    {"mutagenesis", "score every single substitution of sequences (saturation mutagenesis)"},
    {"variants", "score VCF variants or protein mutants (effect of each on the model)"},
    {"scan", "slide a fine-tuned model along a genome or regions (bedGraph tracks)"},
    {"launch", "start data-parallel workers (torchrun-style)"},
    {"lr-find", "find a learning rate for a recipe (fastai's learning-rate finder)"},
};

}  // namespace

void register_torch_placeholders(CLI::App& app) {
  // genolm hands these commands to genolm-train before parsing; the entries only show in --help.
  for (const auto& command : kTorchCommandHelp)
    app.add_subcommand(command.name, command.summary)->allow_extras();
}

}  // namespace genolm::cli
