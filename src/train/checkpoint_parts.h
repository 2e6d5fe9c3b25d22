#pragma once
// What a checkpoint holds beside the model and optimizer, as read from either of its formats
// (safetensors, or the TorchScript archive of earlier versions) before it is applied to a run.

#include <torch/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace genolm::train {

struct CheckpointParts {
  nlohmann::json counters;              // step, epoch, position, ... (checkpoint.cpp names them)
  std::string loader_rng;               // std::mt19937_64 state, as text
  std::vector<torch::Tensor> carried;   // the encoder's carried state
  torch::Tensor torch_rng;              // the CPU generator's state
  std::vector<torch::Tensor> cuda_rng;  // each GPU's generator state; undefined where not saved
};

}  // namespace genolm::train
