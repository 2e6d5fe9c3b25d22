#include "train/precision.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace genolm::train {

CpuAutocast::CpuAutocast(bool enabled) : enabled_(enabled) {
  if (!enabled_) return;
#if TORCH_VERSION_MAJOR >= 2
  was_enabled_ = at::autocast::is_autocast_enabled(at::kCPU);
  at::autocast::set_autocast_dtype(at::kCPU, at::kBFloat16);
  at::autocast::set_autocast_enabled(at::kCPU, true);
#else
  was_enabled_ = at::autocast::is_cpu_enabled();
  at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  at::autocast::set_cpu_enabled(true);
#endif
}

CpuAutocast::~CpuAutocast() {
  if (!enabled_) return;
#if TORCH_VERSION_MAJOR >= 2
  at::autocast::set_autocast_enabled(at::kCPU, was_enabled_);
#else
  at::autocast::set_cpu_enabled(was_enabled_);
#endif
  // Cached bf16 copies of the weights must not outlive the step that made them.
  if (!was_enabled_) at::autocast::clear_cache();
}

}  // namespace genolm::train
