#include "train/module_file.h"

#include <torch/serialize.h>

#include <string>

#include "genolm/atomic_file.h"
#include "genolm/error.h"
#include "train/device.h"

namespace genolm::train {

void save_archive_atomically(torch::serialize::OutputArchive& archive,
                             const std::filesystem::path& file) {
  std::string bytes;
  archive.save_to([&bytes](const void* data, std::size_t size) -> std::size_t {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  write_file_atomically(file, bytes);
}

void save_module_file(const torch::nn::Module& module, const std::filesystem::path& file) {
  torch::serialize::OutputArchive archive;
  module.save(archive);
  save_archive_atomically(archive, file);
}

void load_module_file(torch::nn::Module& module, const std::filesystem::path& file) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(file.string(), device_of(module));
    module.load(archive);
  } catch (const c10::Error& e) {
    throw Error(file.string() + " cannot be loaded into this model (" +
                std::string(e.what_without_backtrace()) + ")");
  }
}

}  // namespace genolm::train
