#include "train/precision.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "genolm/error.h"

namespace genolm::train {
namespace {

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool enabled_on(c10::DeviceType device) {
  return at::autocast::is_autocast_enabled(device);
}
void enable_on(c10::DeviceType device, bool enabled) {
  if (enabled) at::autocast::set_autocast_dtype(device, at::kBFloat16);
  at::autocast::set_autocast_enabled(device, enabled);
}
#else
bool enabled_on(c10::DeviceType device) {
  return device == c10::DeviceType::CUDA ? at::autocast::is_enabled()
                                         : at::autocast::is_cpu_enabled();
}
void enable_on(c10::DeviceType device, bool enabled) {
  if (device == c10::DeviceType::CUDA) {
    if (enabled) at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(enabled);
  } else {
    if (enabled) at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(enabled);
  }
}
#endif

}  // namespace

Bf16Autocast::Bf16Autocast(bool enabled, c10::DeviceType device)
    : enabled_(enabled), device_(device) {
  if (!enabled_) return;
  if (device_ != c10::DeviceType::CPU && device_ != c10::DeviceType::CUDA) {
    throw Error("bf16 autocast runs on the CPU or CUDA, not on " + c10::DeviceTypeName(device_));
  }
  was_enabled_ = enabled_on(device_);
  enable_on(device_, true);
}

Bf16Autocast::~Bf16Autocast() {
  if (!enabled_) return;
  enable_on(device_, was_enabled_);
  // Cached bf16 copies of the weights must not outlive the step that made them.
  if (!was_enabled_) at::autocast::clear_cache();
}

}  // namespace genolm::train
