#include "train/module_file.h"

#include "genolm/atomic_file.h"
#include "genolm/error.h"
#include "train/tensor_file.h"
#include "train/torchscript_archive.h"

namespace genolm::train {

void save_module_file(const torch::nn::Module& module, const std::filesystem::path& file) {
  write_file_atomically(file, encode_tensors(module_tensors(module), {{"genolm", "weights"}}));
}

void load_module_file(torch::nn::Module& module, const std::filesystem::path& file) {
  if (is_torchscript_archive(file)) {
    load_torchscript_module(module, file);
    return;
  }
  const auto stored = io::SafetensorsFile::read(file, /*require_checksum=*/true);
  load_module_tensors(module, stored);
}

}  // namespace genolm::train
