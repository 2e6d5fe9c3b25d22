#pragma once
// LibTorch's thread count for one scope. LibTorch starts a test process with one thread; tests of
// code that splits its work over threads set two, and put back what they found.

#include <ATen/Parallel.h>

namespace genolm::test {

class ScopedTorchThreads {
 public:
  explicit ScopedTorchThreads(int threads) : before_(at::get_num_threads()) {
    at::set_num_threads(threads);
  }
  ~ScopedTorchThreads() { at::set_num_threads(before_); }
  ScopedTorchThreads(const ScopedTorchThreads&) = delete;
  ScopedTorchThreads& operator=(const ScopedTorchThreads&) = delete;

 private:
  int before_;
};

}  // namespace genolm::test
