#include "train/device.h"

#include <torch/cuda.h>

#include <algorithm>

#include "genolm/error.h"

namespace genolm::train {

torch::Device training_device(const std::string& requested, int local_rank) {
  if (requested == "cpu") return torch::kCPU;
  const bool have_cuda = torch::cuda::is_available();
  if (requested == "auto" && !have_cuda) return torch::kCPU;
  if (requested != "auto" && requested != "cuda") {
    throw Error("train.device '" + requested + "' is not one of auto, cpu, cuda");
  }
  if (!have_cuda) {
    throw Error(
        "train.device = cuda, but no GPU is usable: this genolm was built against a CPU-only "
        "LibTorch or no CUDA device is visible (see docs/usage.md, GPU build; or use cpu/auto)");
  }
  const auto gpus = static_cast<int>(torch::cuda::device_count());
  return {torch::kCUDA, static_cast<c10::DeviceIndex>(std::max(0, local_rank) % gpus)};
}

torch::Device device_of(const torch::nn::Module& module) {
  const auto parameters = module.parameters();
  return parameters.empty() ? torch::Device(torch::kCPU) : parameters.front().device();
}

}  // namespace genolm::train
