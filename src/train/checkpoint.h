#pragma once
// Checkpoints: everything a run needs to continue exactly where it stopped, in one file: model,
// optimizer, the encoder's carried state, data position, random-number states and counters.
// Files are written under a temporary name and renamed, so a checkpoint that exists is whole; the
// newest K are kept.

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace genolm::train {

struct TrainingState {
  std::int64_t step = 0;                            // optimizer steps done
  std::int64_t epoch = 0;                           // passes over the train split started
  std::uint64_t position = 0;                       // where the LM stream continues
  std::uint64_t tokens = 0;                         // tokens trained on
  double wall_seconds = 0;                          // training time so far, over every session
  std::string loader_rng;                           // std::mt19937_64 state, as text
  std::vector<torch::Tensor> carried;               // the encoder's carried state (LSTM h and c)
  nlohmann::json extra = nlohmann::json::object();  // a trainer's own counters (best metric...)
};

class Checkpoints {
 public:
  Checkpoints(std::filesystem::path dir, int keep);

  // Writes step-NNNNNNNN.pt (temp + rename), then removes all but the newest `keep`.
  void save(const torch::nn::Module& model, const torch::optim::Optimizer& optimizer,
            const TrainingState& state) const;
  // The newest checkpoint, if any.
  std::optional<std::filesystem::path> latest() const;
  // Restores model, optimizer (built beforehand with the same options), state and the global
  // torch random generator. Throws genolm::Error naming the file if it is truncated or corrupt.
  TrainingState load(const std::filesystem::path& file, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer) const;

 private:
  std::filesystem::path dir_;
  int keep_;
};

}  // namespace genolm::train
