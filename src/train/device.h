#pragma once
// Where a rank computes: the CPU, or one GPU per local rank (cuda:LOCAL_RANK modulo the GPUs this
// process sees, as torchrun and srun lay ranks out on a node).

#include <torch/nn/module.h>
#include <torch/types.h>

#include <string>

namespace genolm::train {

// `requested` is a recipe's train.device: "auto" (CUDA when this LibTorch and machine have it,
// else the CPU), "cpu" or "cuda". Throws genolm::Error when "cuda" cannot be had.
torch::Device training_device(const std::string& requested, int local_rank);

// Where a module's parameters live (the CPU for a module without any).
torch::Device device_of(const torch::nn::Module& module);

}  // namespace genolm::train
