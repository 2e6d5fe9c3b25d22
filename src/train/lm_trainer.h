#pragma once
// The language-model training loop: batches from the LM stream, forward and loss (with AR/TAR for
// the AWD-LSTM), gradient accumulation and clipping, AdamW with a schedule, periodic evaluation,
// metrics, reports and checkpoints, and a clean stop on SIGINT/SIGTERM.

#include <filesystem>
#include <nlohmann/json.hpp>

#include "config/recipe.h"
#include "data/token_corpus.h"

namespace genolm::dist {
class Communicator;
}

namespace genolm::train {

struct PretrainRun {
  std::filesystem::path dir;  // the run folder
  const config::Recipe* recipe = nullptr;
  const data::TokenCorpus* corpus = nullptr;
  nlohmann::json encoder;   // encoder description (model.json's "encoder")
  double stride_prior = 0;  // ln(4^stride) for k-mers; NaN when it does not apply
  bool resume = false;
  // The data-parallel job this process is a rank of; null: a single process.
  dist::Communicator* comm = nullptr;
};

enum class RunOutcome { finished, interrupted };

// Trains until the recipe's epochs or max_steps are done, or a signal asks to stop (a checkpoint is
// saved either way). Throws genolm::Error on bad data or a checkpoint that cannot be read.
RunOutcome train_language_model(const PretrainRun& run);

}  // namespace genolm::train
