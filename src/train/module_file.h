#pragma once
// A module's weights alone in one file (encoder.pt, classifier.pt): what fine-tuning, predict,
// evaluate and embed read, beside the full checkpoints of checkpoint.h.

#include <torch/nn/module.h>

#include <filesystem>

namespace genolm::train {

// Written under a temporary name and renamed, so a file that exists is whole.
void save_module_file(const torch::nn::Module& module, const std::filesystem::path& file);

// Loads onto the module's own device, whichever device saved the file. Throws genolm::Error naming
// the file when it cannot be read or does not fit the module.
void load_module_file(torch::nn::Module& module, const std::filesystem::path& file);

}  // namespace genolm::train
