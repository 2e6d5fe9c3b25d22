#include "train/checkpoint.h"

#include <zlib.h>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <torch/cuda.h>
#include <torch/optim/adamw.h>
#include <torch/serialize.h>

#include <algorithm>
#include <cstdio>
#include <regex>

#include "genolm/error.h"
#include "train/device.h"
#include "train/module_file.h"
#include "train/optimizer_state_key.h"

namespace genolm::train {
namespace {

constexpr std::int64_t kFormatVersion = 1;

torch::Tensor text_tensor(const std::string& text) {
  auto tensor = torch::empty({static_cast<std::int64_t>(text.size())}, torch::kUInt8);
  std::copy(text.begin(), text.end(), tensor.data_ptr<std::uint8_t>());
  return tensor;
}

std::string tensor_text(const torch::Tensor& stored) {
  const auto tensor = stored.cpu().contiguous();  // loaded onto the model's device, maybe a GPU
  const auto* bytes = tensor.data_ptr<std::uint8_t>();
  return std::string(bytes, bytes + tensor.numel());
}

}  // namespace

nlohmann::json best_epoch_json(const std::optional<BestEpoch>& best) {
  if (!best) return nullptr;
  return {{"epoch", best->epoch}, {"step", best->step}, {"value", best->value}};
}

namespace {

// The trainers' counters, under the keys checkpoints have always used for them.
nlohmann::json trainer_counters(const TrainingState& state) {
  nlohmann::json out = {{"world_size", state.world_size},
                        {"without_improvement", state.without_improvement},
                        {"stopped_early", state.stopped_early},
                        {"tested", state.tested},
                        {"best", best_epoch_json(state.best)}};
  if (!state.test_metrics.is_null()) out["test"] = state.test_metrics;
  if (state.lowest_valid_loss) out["lowest_valid_loss"] = *state.lowest_valid_loss;
  return out;
}

void read_trainer_counters(const nlohmann::json& extra, TrainingState& state) {
  state.world_size = extra.value("world_size", 1);
  state.without_improvement = extra.value("without_improvement", std::int64_t{0});
  state.stopped_early = extra.value("stopped_early", false);
  state.tested = extra.value("tested", false);
  // Absent from checkpoints written before patience watched the loss: the next epoch sets it.
  if (const auto loss = extra.find("lowest_valid_loss"); loss != extra.end() && loss->is_number())
    state.lowest_valid_loss = loss->get<double>();
  if (const auto best = extra.find("best"); best != extra.end() && best->is_object()) {
    state.best = BestEpoch{.epoch = best->at("epoch").get<std::int64_t>(),
                           .step = best->at("step").get<std::int64_t>(),
                           .value = best->at("value").get<double>()};
  }
  state.test_metrics = extra.value("test", nlohmann::json());
}

std::vector<std::filesystem::path> checkpoint_files(const std::filesystem::path& dir) {
  static const std::regex pattern(R"(step-\d{8}\.pt)");
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (std::regex_match(entry.path().filename().string(), pattern)) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());  // zero-padded steps sort by name
  return files;
}

// CRC-32 of AdamW's state (each parameter's step and moments, parameters in group order), or
// nothing for another optimizer. A flipped byte in the moments once resumed as NaN losses.
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

}  // namespace

Checkpoints::Checkpoints(std::filesystem::path dir, int keep) : dir_(std::move(dir)), keep_(keep) {
  std::filesystem::create_directories(dir_);
}

void Checkpoints::save(const torch::nn::Module& model, const torch::optim::Optimizer& optimizer,
                       const TrainingState& state) const {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive model_archive;
  save_module_with_checksum(model, model_archive);
  archive.write("model", model_archive);
  torch::serialize::OutputArchive optimizer_archive;
  optimizer.save(optimizer_archive);
  archive.write("optimizer", optimizer_archive);
  if (const auto crc = optimizer_checksum(optimizer))
    archive.write("optimizer_crc32", torch::tensor(*crc, torch::kInt64));

  const nlohmann::json counters = {{"format_version", kFormatVersion},
                                   {"step", state.step},
                                   {"epoch", state.epoch},
                                   {"position", state.position},
                                   {"tokens", state.tokens},
                                   {"wall_seconds", state.wall_seconds},
                                   {"carried", state.carried.size()},
                                   {"extra", trainer_counters(state)}};
  archive.write("counters", text_tensor(counters.dump()));
  archive.write("loader_rng", text_tensor(state.loader_rng));
  for (std::size_t i = 0; i < state.carried.size(); ++i) {
    archive.write("carried." + std::to_string(i), state.carried[i]);
  }
  auto generator = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard<std::mutex> lock(generator.mutex());
    archive.write("torch_rng", generator.get_state());
  }
  // Dropout masks of a model on a GPU come from that GPU's generator.
  for (std::size_t i = 0; i < torch::cuda::device_count(); ++i) {
    auto gpu = at::globalContext().defaultGenerator(
        torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(i)));
    std::lock_guard<std::mutex> lock(gpu.mutex());
    archive.write("cuda_rng." + std::to_string(i), gpu.get_state());
  }

  char name[32];
  std::snprintf(name, sizeof name, "step-%08lld.pt", static_cast<long long>(state.step));
  save_archive_atomically(archive, dir_ / name);

  auto files = checkpoint_files(dir_);
  for (std::size_t i = 0; i + static_cast<std::size_t>(keep_) < files.size(); ++i) {
    std::filesystem::remove(files[i]);
  }
}

std::optional<std::filesystem::path> Checkpoints::latest() const {
  const auto files = checkpoint_files(dir_);
  if (files.empty()) return std::nullopt;
  return files.back();
}

TrainingState Checkpoints::load(const std::filesystem::path& file, torch::nn::Module& model,
                                torch::optim::Optimizer& optimizer) const {
  TrainingState state;
  try {
    torch::serialize::InputArchive archive;
    // Tensors land on the device the model lives on, whichever device saved them.
    archive.load_from(file.string(), device_of(model));
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    load_module_and_check(model, model_archive, file);
    torch::serialize::InputArchive optimizer_archive;
    archive.read("optimizer", optimizer_archive);
    optimizer.load(optimizer_archive);
    torch::Tensor saved_crc;
    if (archive.try_read("optimizer_crc32", saved_crc)) {  // absent from earlier checkpoints
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
    const auto counters = nlohmann::json::parse(tensor_text(read_tensor("counters")));
    if (counters.at("format_version").get<std::int64_t>() != kFormatVersion) {
      throw Error("checkpoint " + file.string() + " has format version " +
                  counters.at("format_version").dump() + ", this genolm reads " +
                  std::to_string(kFormatVersion));
    }
    state.step = counters.at("step").get<std::int64_t>();
    state.epoch = counters.at("epoch").get<std::int64_t>();
    state.position = counters.at("position").get<std::uint64_t>();
    state.tokens = counters.at("tokens").get<std::uint64_t>();
    state.wall_seconds = counters.at("wall_seconds").get<double>();
    state.loader_rng = tensor_text(read_tensor("loader_rng"));
    read_trainer_counters(counters.value("extra", nlohmann::json::object()), state);
    const auto carried = counters.at("carried").get<std::size_t>();
    for (std::size_t i = 0; i < carried; ++i) {
      state.carried.push_back(read_tensor("carried." + std::to_string(i)));
    }
    const auto rng_state = read_tensor("torch_rng").cpu();
    auto generator = at::detail::getDefaultCPUGenerator();
    {
      std::lock_guard<std::mutex> lock(generator.mutex());
      generator.set_state(rng_state);
    }
    for (std::size_t i = 0; i < torch::cuda::device_count(); ++i) {
      torch::Tensor gpu_state;
      if (!archive.try_read("cuda_rng." + std::to_string(i), gpu_state)) continue;
      auto gpu = at::globalContext().defaultGenerator(
          torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(i)));
      std::lock_guard<std::mutex> lock(gpu.mutex());
      gpu.set_state(gpu_state.cpu());
    }
  } catch (const c10::Error& e) {
    throw Error("checkpoint " + file.string() + " cannot be read: it is truncated or corrupted (" +
                std::string(e.what_without_backtrace()) +
                "); delete it to resume from an earlier one");
  } catch (const nlohmann::json::exception& e) {
    throw Error("checkpoint " + file.string() + " has malformed counters (" + e.what() + ")");
  }
  return state;
}

}  // namespace genolm::train
