#pragma once
// A module's weights alone in one file (encoder.pt, classifier.pt): what fine-tuning, predict,
// evaluate and embed read, beside the full checkpoints of checkpoint.h.

#include <torch/nn/module.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <filesystem>

namespace genolm::train {

// Written all or nothing (genolm/atomic_file.h), so a file that exists is whole; a full disk is a
// genolm::Error naming the file, and the previous version stays.
void save_module_file(const torch::nn::Module& module, const std::filesystem::path& file);

// An archive serialised in memory, then written all or nothing. LibTorch's own file writer
// finishes the file in a destructor, which on a full disk throws during unwinding and ends the
// process through std::terminate, leaving a .tmp behind.
void save_archive_atomically(torch::serialize::OutputArchive& archive,
                             const std::filesystem::path& file);

// A module's weights into `archive` with their CRC-32, and back: a flipped byte in a tensor is an
// error naming `file` ("damaged"), not wrong weights. Archives of earlier versions, without a
// checksum, load unchecked.
void save_module_with_checksum(const torch::nn::Module& module,
                               torch::serialize::OutputArchive& archive);
void load_module_and_check(torch::nn::Module& module, torch::serialize::InputArchive& archive,
                           const std::filesystem::path& file);

// Loads onto the module's own device, whichever device saved the file. Throws genolm::Error naming
// the file when it cannot be read or does not fit the module.
void load_module_file(torch::nn::Module& module, const std::filesystem::path& file);

}  // namespace genolm::train
