#include "train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <torch/cuda.h>
#include <torch/optim/adamw.h>

#include <algorithm>
#include <cstdio>
#include <regex>

#include "genolm/atomic_file.h"
#include "genolm/error.h"
#include "io/safetensors.h"
#include "train/device.h"
#include "train/optimizer_tensors.h"
#include "train/tensor_file.h"
#include "train/torchscript_archive.h"

namespace genolm::train {
namespace {

constexpr std::int64_t kFormatVersion = 1;

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
  // .pt: the TorchScript archives of earlier versions, still read.
  static const std::regex pattern(R"(step-\d{8}\.(safetensors|pt))");
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (std::regex_match(entry.path().filename().string(), pattern)) files.push_back(entry.path());
  }
  // Zero-padded steps sort by name; at one step, .safetensors (newer) after .pt.
  std::sort(files.begin(), files.end());
  return files;
}

CheckpointParts read_safetensors_checkpoint(const std::filesystem::path& file,
                                            torch::nn::Module& model,
                                            torch::optim::Optimizer& optimizer) {
  const auto stored = [&file] {
    try {
      return io::SafetensorsFile::read(file, /*require_checksum=*/true);
    } catch (const Error& e) {
      throw Error("checkpoint " + std::string(e.what()) +
                  "; delete it to resume from an earlier one");
    }
  }();
  const auto& metadata = stored.metadata();
  const auto text = [&](const std::string& key) {
    const auto found = metadata.find(key);
    if (found == metadata.end()) throw Error("checkpoint " + file.string() + " lacks its " + key);
    return found->second;
  };
  const auto tensor = [&](const std::string& name) {
    const auto* found = stored.find(name);
    if (found == nullptr) throw Error("checkpoint " + file.string() + " lacks tensor " + name);
    return to_torch(*found);
  };
  CheckpointParts parts;
  parts.counters = nlohmann::json::parse(text("counters"));
  load_module_tensors(model, stored, "model.");
  load_optimizer_tensors(optimizer, stored, nlohmann::json::parse(text("optimizer")));
  parts.loader_rng = text("loader_rng");
  const auto carried = parts.counters.at("carried").get<std::size_t>();
  const auto device = device_of(model);
  for (std::size_t i = 0; i < carried; ++i)
    parts.carried.push_back(tensor("carried." + std::to_string(i)).to(device));
  parts.torch_rng = tensor("torch_rng");
  for (std::size_t i = 0; i < torch::cuda::device_count(); ++i) {
    const auto* gpu = stored.find("cuda_rng." + std::to_string(i));
    parts.cuda_rng.push_back(gpu ? to_torch(*gpu) : torch::Tensor());
  }
  return parts;
}

}  // namespace

Checkpoints::Checkpoints(std::filesystem::path dir, int keep) : dir_(std::move(dir)), keep_(keep) {
  std::filesystem::create_directories(dir_);
}

void Checkpoints::save(const torch::nn::Module& model, const torch::optim::Optimizer& optimizer,
                       const TrainingState& state) const {
  NamedTensors tensors = module_tensors(model, "model.");
  const auto optimizer_groups = add_optimizer_tensors(optimizer, tensors);
  for (std::size_t i = 0; i < state.carried.size(); ++i)
    tensors.emplace_back("carried." + std::to_string(i), state.carried[i]);
  auto generator = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard<std::mutex> lock(generator.mutex());
    tensors.emplace_back("torch_rng", generator.get_state());
  }
  // Dropout masks of a model on a GPU come from that GPU's generator.
  for (std::size_t i = 0; i < torch::cuda::device_count(); ++i) {
    auto gpu = at::globalContext().defaultGenerator(
        torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(i)));
    std::lock_guard<std::mutex> lock(gpu.mutex());
    tensors.emplace_back("cuda_rng." + std::to_string(i), gpu.get_state());
  }
  const nlohmann::json counters = {{"format_version", kFormatVersion},
                                   {"step", state.step},
                                   {"epoch", state.epoch},
                                   {"position", state.position},
                                   {"tokens", state.tokens},
                                   {"wall_seconds", state.wall_seconds},
                                   {"carried", state.carried.size()},
                                   {"extra", trainer_counters(state)}};
  char name[40];
  std::snprintf(name, sizeof name, "step-%08lld.safetensors", static_cast<long long>(state.step));
  write_file_atomically(dir_ / name,
                        encode_tensors(tensors, {{"genolm", "checkpoint"},
                                                 {"counters", counters.dump()},
                                                 {"optimizer", optimizer_groups.dump()},
                                                 {"loader_rng", state.loader_rng}}));

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
    const auto parts = is_torchscript_archive(file)
                           ? load_torchscript_checkpoint(file, model, optimizer)
                           : read_safetensors_checkpoint(file, model, optimizer);
    const auto& counters = parts.counters;
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
    state.loader_rng = parts.loader_rng;
    read_trainer_counters(counters.value("extra", nlohmann::json::object()), state);
    state.carried = parts.carried;
    auto generator = at::detail::getDefaultCPUGenerator();
    {
      std::lock_guard<std::mutex> lock(generator.mutex());
      generator.set_state(parts.torch_rng);
    }
    for (std::size_t i = 0; i < parts.cuda_rng.size(); ++i) {
      if (!parts.cuda_rng[i].defined()) continue;
      auto gpu = at::globalContext().defaultGenerator(
          torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(i)));
      std::lock_guard<std::mutex> lock(gpu.mutex());
      gpu.set_state(parts.cuda_rng[i]);
    }
  } catch (const c10::Error& e) {
    throw Error("checkpoint " + file.string() + " cannot be restored (" +
                std::string(e.what_without_backtrace()) +
                "); delete it to resume from an earlier one");
  } catch (const nlohmann::json::exception& e) {
    throw Error("checkpoint " + file.string() + " has malformed counters (" + e.what() + ")");
  }
  return state;
}

}  // namespace genolm::train
