#pragma once
// Reading the TorchScript archives (.pt) that genolm wrote before it stored weights and
// checkpoints as safetensors. Loading such an archive can run code shipped inside it, so each load
// warns, and genolm never writes one; older run folders keep working.

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <filesystem>

#include "train/checkpoint_parts.h"

namespace genolm::train {

// True for a file in the old format (by its .pt name).
bool is_torchscript_archive(const std::filesystem::path& file);

// Loads a module's weights onto its own device, checking the CRC-32 saved with them when the file
// has one. Throws genolm::Error naming the file when it cannot be read or does not fit.
void load_torchscript_module(torch::nn::Module& module, const std::filesystem::path& file);

// Loads a checkpoint's model and optimizer (each checked against its saved CRC-32) and returns the
// rest. Throws genolm::Error naming the file when it is truncated or corrupted.
CheckpointParts load_torchscript_checkpoint(const std::filesystem::path& file,
                                            torch::nn::Module& model,
                                            torch::optim::Optimizer& optimizer);

}  // namespace genolm::train
