#include "train/module_file.h"

#include <torch/serialize.h>
#include <zlib.h>

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

namespace {

// Saved beside the weights: LibTorch's archive reader checks no checksum, so a flipped byte in a
// tensor once loaded silently (wrong embeddings, exit status 0).
constexpr const char* kChecksumKey = "genolm_weights_crc32";

// CRC-32 (zlib) of the bytes of every parameter and buffer, in the module's own order.
std::int64_t weights_checksum(const torch::nn::Module& module) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const auto add = [&crc](const torch::Tensor& tensor) {
    const auto bytes = tensor.detach().to(torch::kCPU).contiguous();
    crc = crc32_z(crc, static_cast<const Bytef*>(bytes.data_ptr()), bytes.nbytes());
  };
  for (const auto& parameter : module.parameters())
    add(parameter);
  for (const auto& buffer : module.buffers())
    add(buffer);
  return static_cast<std::int64_t>(crc);
}

}  // namespace

void save_module_with_checksum(const torch::nn::Module& module,
                               torch::serialize::OutputArchive& archive) {
  module.save(archive);
  archive.write(kChecksumKey, torch::tensor(weights_checksum(module), torch::kInt64));
}

void load_module_and_check(torch::nn::Module& module, torch::serialize::InputArchive& archive,
                           const std::filesystem::path& file) {
  module.load(archive);
  torch::Tensor saved;
  if (!archive.try_read(kChecksumKey, saved)) return;  // files of earlier versions have none
  if (saved.to(torch::kCPU).item<std::int64_t>() != weights_checksum(module)) {
    throw Error(file.string() +
                " is damaged: its weights do not match the checksum saved with them");
  }
}

void save_module_file(const torch::nn::Module& module, const std::filesystem::path& file) {
  torch::serialize::OutputArchive archive;
  save_module_with_checksum(module, archive);
  save_archive_atomically(archive, file);
}

void load_module_file(torch::nn::Module& module, const std::filesystem::path& file) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(file.string(), device_of(module));
    load_module_and_check(module, archive, file);
  } catch (const c10::Error& e) {
    throw Error(file.string() + " cannot be loaded into this model (" +
                std::string(e.what_without_backtrace()) + ")");
  }
}

}  // namespace genolm::train
