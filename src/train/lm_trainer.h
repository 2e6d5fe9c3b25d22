#pragma once
// The language-model loop: batches from the LM stream (truncated BPTT for an encoder that carries
// state, windows for one that does not), the next-token loss (with AR/TAR for the AWD-LSTM),
// gradient accumulation, a schedule, periodic evaluation on the valid split, and the run's model
// files: encoder.safetensors (for fine-tuning and embeddings) and language_model.safetensors (encoder and decoder,
// for scoring). Everything else a run does is the session's (train/session.h).

#include <filesystem>
#include <functional>

#include "config/recipe.h"
#include "data/token_corpus.h"
#include "genolm/tokenizers/tokenizer.h"
#include "run/pretrained_run.h"
#include "run/run_layout.h"
#include "train/loss_probe.h"
#include "train/session.h"

namespace genolm::train {

struct PretrainRun {
  RunContext context;
  const data::TokenCorpus* corpus = nullptr;
  const tokenizers::Tokenizer* tokenizer = nullptr;  // the corpus's
  // ULMFiT's stage 2: the run whose language model (architecture, dropouts, weights) this one
  // continues from; null: a new model of the recipe's [model].
  const run::PretrainedRun* init = nullptr;
};

// Trains until the recipe's epochs or max_steps are done, or a signal asks to stop (a checkpoint is
// saved either way). Throws genolm::Error on bad data or a checkpoint that cannot be read.
RunOutcome train_language_model(const PretrainRun& run);

// For the learning-rate finder (train/lr_find_trainer.h): the language model as
// train_language_model starts it (seeded with run.seed, on train.device), its training batches and
// its loss, handed to `use`; nothing is written. One parameter group; train.grad_clip and
// train.weight_decay as the run applies them.
void probe_language_model(const PretrainRun& run, const std::function<void(LossProbe&)>& use);

}  // namespace genolm::train
