#pragma once
// A module's weights alone in one file (encoder.safetensors, classifier.safetensors): what
// fine-tuning, predict, evaluate and embed read, beside the full checkpoints of checkpoint.h.

#include <torch/nn/module.h>

#include <filesystem>

namespace genolm::train {

// Writes the module's parameters and buffers as safetensors with genolm's checksum
// (io/safetensors.h), all or nothing (genolm/atomic_file.h): a file that exists is whole, a full
// disk is a genolm::Error naming the file, and the previous version stays.
void save_module_file(const torch::nn::Module& module, const std::filesystem::path& file);

// Loads onto the module's own device, whichever device saved the file. A .pt file of an earlier
// genolm (a TorchScript archive) loads with a warning. Throws genolm::Error naming the file when it
// cannot be read, is damaged or does not fit the module.
void load_module_file(torch::nn::Module& module, const std::filesystem::path& file);

}  // namespace genolm::train
