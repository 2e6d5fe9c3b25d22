#include "train/module_file.h"

#include <torch/serialize.h>

#include <string>

#include "genolm/error.h"
#include "train/device.h"

namespace genolm::train {

void save_module_file(const torch::nn::Module& module, const std::filesystem::path& file) {
  torch::serialize::OutputArchive archive;
  module.save(archive);
  auto temp = file;
  temp += ".tmp";
  archive.save_to(temp.string());
  std::filesystem::rename(temp, file);
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
