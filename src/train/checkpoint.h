#pragma once
// Checkpoints: everything a run needs to continue exactly where it stopped, in one file: model,
// optimizer, the encoder's carried state, data position, random-number states and counters.
// Files are safetensors (io/safetensors.h: data only, checksummed), written all or nothing, so a
// checkpoint that exists is whole; the newest K are kept. The .pt archives of earlier versions are
// still read.

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace genolm::train {

// The epoch whose weights are kept as the model, by the valid metric that picks it.
struct BestEpoch {
  std::int64_t epoch = 0;  // 1-based
  std::int64_t step = 0;
  double value = 0;
};

// {"epoch", "step", "value"}, or null: how checkpoints and run.json record it.
nlohmann::json best_epoch_json(const std::optional<BestEpoch>& best);

struct TrainingState {
  std::int64_t step = 0;               // optimizer steps done
  std::int64_t epoch = 0;              // passes over the train split started (0-based)
  std::uint64_t position = 0;          // where the LM stream, or the epoch's batches, continue
  std::uint64_t tokens = 0;            // tokens trained on
  double wall_seconds = 0;             // training time so far, over every session
  std::string loader_rng;              // std::mt19937_64 state, as text
  std::vector<torch::Tensor> carried;  // the encoder's carried state (LSTM h and c)
  int world_size = 1;                  // ranks the run trains on
  // Fine-tuning's epoch selection and end.
  std::optional<BestEpoch> best;
  std::int64_t without_improvement = 0;  // epochs without progress (early_stopping.h)
  std::optional<double> lowest_valid_loss;
  bool stopped_early = false;
  bool tested = false;
  nlohmann::json test_metrics;  // the test row once tested; null before
};

class Checkpoints {
 public:
  Checkpoints(std::filesystem::path dir, int keep);

  // Writes step-NNNNNNNN.safetensors (all or nothing), then removes all but the newest `keep`.
  void save(const torch::nn::Module& model, const torch::optim::Optimizer& optimizer,
            const TrainingState& state) const;
  // The newest checkpoint, if any.
  std::optional<std::filesystem::path> latest() const;
  // Restores model, optimizer (built beforehand with the same options), state and the global
  // torch random generator. Throws genolm::Error naming the file if it is truncated, damaged or
  // does not fit the model and optimizer.
  TrainingState load(const std::filesystem::path& file, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer) const;

 private:
  std::filesystem::path dir_;
  int keep_;
};

}  // namespace genolm::train
