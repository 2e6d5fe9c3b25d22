#pragma once
// bf16 autocast on the CPU for the span of a scope. The API moved between LibTorch 1.13
// (set_cpu_enabled, set_autocast_cpu_dtype) and 2.x (per-device calls); this is the one place that
// knows.

namespace genolm::train {

class CpuAutocast {
 public:
  explicit CpuAutocast(bool enabled);
  ~CpuAutocast();
  CpuAutocast(const CpuAutocast&) = delete;
  CpuAutocast& operator=(const CpuAutocast&) = delete;

 private:
  bool enabled_;
  bool was_enabled_ = false;
};

}  // namespace genolm::train
