#pragma once
// bf16 autocast on one device type (CPU or CUDA) for the span of a scope. The API moved between
// LibTorch 1.13-2.3 (set_cpu_enabled / set_enabled for CUDA, per-device dtype setters) and 2.4+
// (calls that take the device type); this is the one place that knows.

#include <c10/core/DeviceType.h>

namespace genolm::train {

class Bf16Autocast {
 public:
  Bf16Autocast(bool enabled, c10::DeviceType device);
  ~Bf16Autocast();
  Bf16Autocast(const Bf16Autocast&) = delete;
  Bf16Autocast& operator=(const Bf16Autocast&) = delete;

 private:
  bool enabled_;
  c10::DeviceType device_;
  bool was_enabled_ = false;
};

}  // namespace genolm::train
