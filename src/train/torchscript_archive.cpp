#include "train/torchscript_archive.h"

#include <zlib.h>

#include <torch/cuda.h>
#include <torch/optim/adamw.h>
#include <torch/serialize.h>

#include <optional>
#include <string>

#include "genolm/error.h"
#include "train/device.h"
#include "train/optimizer_state_key.h"
#include "util/log.h"

namespace genolm::train {
namespace {

void warn_old_format(const std::filesystem::path& file) {
  log("load")->warn(
      "{} is in the TorchScript format of earlier genolm versions, which can run code when it is "
      "loaded; load only files you trust (genolm now saves safetensors)",
      file.string());
}

// CRC-32 (zlib) of the bytes of every parameter and buffer, in the module's own order, as
// versions that wrote these archives saved it under genolm_weights_crc32.
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

void load_module_and_check(torch::nn::Module& module, torch::serialize::InputArchive& archive,
                           const std::filesystem::path& file) {
  module.load(archive);
  torch::Tensor saved;
  if (!archive.try_read("genolm_weights_crc32", saved)) return;  // the oldest archives have none
  if (saved.to(torch::kCPU).item<std::int64_t>() != weights_checksum(module)) {
    throw Error(file.string() +
                " is damaged: its weights do not match the checksum saved with them");
  }
}

// CRC-32 of AdamW's state (each parameter's step and moments, parameters in group order), or
// nothing for another optimizer, as saved under optimizer_crc32.
std::optional<std::int64_t> optimizer_checksum(const torch::optim::Optimizer& optimizer) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const auto& state = optimizer.state();
  for (const auto& group : optimizer.param_groups()) {
    for (const auto& parameter : group.params()) {
      const auto found = state.find(optimizer_state_key(state, parameter));
      if (found == state.end()) continue;
      const auto* adamw = dynamic_cast<const torch::optim::AdamWParamState*>(found->second.get());
      if (adamw == nullptr) return std::nullopt;
      const std::int64_t step = adamw->step();
      crc = crc32_z(crc, reinterpret_cast<const Bytef*>(&step), sizeof step);
      for (const auto& tensor : {adamw->exp_avg(), adamw->exp_avg_sq(), adamw->max_exp_avg_sq()}) {
        if (!tensor.defined()) continue;
        const auto bytes = tensor.detach().to(torch::kCPU).contiguous();
        crc = crc32_z(crc, static_cast<const Bytef*>(bytes.data_ptr()), bytes.nbytes());
      }
    }
  }
  return static_cast<std::int64_t>(crc);
}

std::string tensor_text(const torch::Tensor& stored) {
  const auto tensor = stored.cpu().contiguous();
  const auto* bytes = tensor.data_ptr<std::uint8_t>();
  return std::string(bytes, bytes + tensor.numel());
}

}  // namespace

bool is_torchscript_archive(const std::filesystem::path& file) {
  return file.extension() == ".pt";
}

void load_torchscript_module(torch::nn::Module& module, const std::filesystem::path& file) {
  warn_old_format(file);
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(file.string(), device_of(module));
    load_module_and_check(module, archive, file);
  } catch (const c10::Error& e) {
    throw Error(file.string() + " cannot be loaded into this model (" +
                std::string(e.what_without_backtrace()) + ")");
  }
}

CheckpointParts load_torchscript_checkpoint(const std::filesystem::path& file,
                                            torch::nn::Module& model,
                                            torch::optim::Optimizer& optimizer) {
  warn_old_format(file);
  CheckpointParts parts;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(file.string(), device_of(model));
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    load_module_and_check(model, model_archive, file);
    torch::serialize::InputArchive optimizer_archive;
    archive.read("optimizer", optimizer_archive);
    optimizer.load(optimizer_archive);
    torch::Tensor saved_crc;
    if (archive.try_read("optimizer_crc32", saved_crc)) {
      const auto crc = optimizer_checksum(optimizer);
      if (crc && *crc != saved_crc.to(torch::kCPU).item<std::int64_t>()) {
        throw Error(file.string() +
                    " is damaged: its optimizer state does not match the checksum saved with it");
      }
    }
    // A fresh tensor for every read: reading into a defined tensor re-seats it in place.
    auto read_tensor = [&archive](const std::string& key) {
      torch::Tensor tensor;
      archive.read(key, tensor);
      return tensor;
    };
    parts.counters = nlohmann::json::parse(tensor_text(read_tensor("counters")));
    parts.loader_rng = tensor_text(read_tensor("loader_rng"));
    const auto carried = parts.counters.at("carried").get<std::size_t>();
    for (std::size_t i = 0; i < carried; ++i)
      parts.carried.push_back(read_tensor("carried." + std::to_string(i)));
    parts.torch_rng = read_tensor("torch_rng").cpu();
    for (std::size_t i = 0; i < torch::cuda::device_count(); ++i) {
      torch::Tensor gpu_state;
      archive.try_read("cuda_rng." + std::to_string(i), gpu_state);
      parts.cuda_rng.push_back(gpu_state.defined() ? gpu_state.cpu() : gpu_state);
    }
  } catch (const c10::Error& e) {
    throw Error("checkpoint " + file.string() + " cannot be read: it is truncated or corrupted (" +
                std::string(e.what_without_backtrace()) +
                "); delete it to resume from an earlier one");
  } catch (const nlohmann::json::exception& e) {
    throw Error("checkpoint " + file.string() + " has malformed counters (" + e.what() + ")");
  }
  return parts;
}

}  // namespace genolm::train
