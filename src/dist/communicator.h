#pragma once
// The one door to the other ranks: a c10d process group (Gloo on CPU, NCCL on GPU) behind the few
// collectives training needs. It turns a dead or hung peer into a genolm::Error that says so, and
// counts the wall time spent blocked, so that a run can report its share of step time waiting.

#include <torch/types.h>
#include <torch/csrc/distributed/c10d/Work.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dist/world.h"

namespace genolm::dist {

// Whether this build can run several CPU processes (Gloo): false when built against a LibTorch
// that ships no Gloo headers, as PyTorch's pip wheels do.
bool gloo_available();

class Communicator {
 public:
  // backend: "gloo", "nccl", or "auto" (NCCL when this build has it and CUDA is available, else
  // Gloo). Rank 0 hosts the TCPStore at world.master_addr:master_port; every rank waits up to
  // `timeout` for the others to join, and each collective fails after `timeout` without progress.
  // A world of size 1 creates nothing, and every call below is then a no-op.
  Communicator(const World& world, std::string backend, std::chrono::seconds timeout);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }  // this rank's place on its node: its GPU
  const std::string& backend() const { return backend_; }

  // Rank `root`'s values into every rank's tensors, in place.
  void broadcast(std::vector<torch::Tensor>& tensors, int root = 0);
  // Starts an in-place sum over ranks of a contiguous tensor; finish it with wait(). Size 1 returns
  // a null handle, which wait() accepts.
  c10::intrusive_ptr<c10d::Work> all_reduce_async(torch::Tensor& flat);
  // In-place sums over ranks, blocking.
  void all_reduce_sum(std::vector<torch::Tensor>& tensors);
  double all_reduce_sum(double value);
  void barrier();

  // Blocks until `work` is done. A failure (a rank died, or hung beyond the timeout) becomes
  // genolm::Error("rank R: lost contact with the other ranks during <what> ...").
  void wait(const c10::intrusive_ptr<c10d::Work>& work, std::string_view what = "all-reduce");

  // Wall time spent blocked in wait() and the blocking collectives since construction.
  std::chrono::duration<double> waiting_time() const { return waiting_; }

 private:
  struct Group;
  // Runs `op` on tensors grouped by dtype and device, each group flattened into one buffer: c10d
  // reads several tensors in one call as replicas of one tensor, not as a list.
  template <typename Op>
  void flattened(std::vector<torch::Tensor>& tensors, Op op);

  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  std::string backend_;
  std::chrono::seconds timeout_;
  std::unique_ptr<Group> group_;
  std::chrono::duration<double> waiting_{0};
};

}  // namespace genolm::dist
