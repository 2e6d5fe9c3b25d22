#pragma once
// Gradient averaging across ranks, done the way PyTorch's DistributedDataParallel does it (its
// c10d::Reducer is not usable here): gradients are packed into flat fp32 buckets, and each bucket's
// all-reduce starts from a gradient hook as soon as all of its parameters have their gradient, so
// communication overlaps the rest of the backward pass.
//
// Per optimizer step, with gradient accumulation over micro-batches:
//   for each micro-batch: reducer.prepare(/*sync=*/is_last); loss.backward();
//   reducer.finish();  // every trainable .grad now holds the average over ranks
//   optimizer.step();

#include <torch/types.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "dist/communicator.h"

namespace genolm::dist {

class GradientReducer {
 public:
  // Buckets hold parameters in reverse order (the last layers' gradients arrive first in backward),
  // each up to `bucket_bytes` of fp32 unless one parameter alone is larger.
  GradientReducer(std::vector<torch::Tensor> parameters, Communicator& communicator,
                  std::size_t bucket_bytes = 25 << 20);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // Before each micro-batch's backward. sync=false: gradients accumulate locally in .grad, nothing
  // is sent. sync=true: this backward's gradients (plus what .grad holds from earlier
  // micro-batches) are sent as they arrive. Picks up changes of requires_grad (gradual unfreezing);
  // every rank must make the same changes.
  void prepare(bool sync);
  // After the synchronised backward: sends what is left (a parameter that got no gradient sends
  // what its .grad holds, or zeros), waits, and overwrites each trainable parameter's .grad with
  // the average over ranks. Frozen parameters keep an undefined .grad. Throws genolm::Error if a
  // rank is lost.
  void finish();

  std::size_t bucket_count() const { return buckets_.size(); }

 private:
  struct Slot {
    std::optional<std::size_t> bucket;  // none while the parameter is frozen
    std::int64_t offset = 0;
    bool ready = false;  // its gradient for this synchronised step is in the bucket
    std::optional<unsigned> hook;
  };
  struct Bucket {
    torch::Tensor buffer;  // flat fp32, on the parameters' device
    std::vector<std::size_t> members;
    std::size_t pending = 0;  // members still without a gradient this step
    c10::intrusive_ptr<c10d::Work> work;
    bool launched = false;
  };

  void on_gradient(std::size_t index, const torch::Tensor& gradient);
  void build_buckets(const std::vector<bool>& trainable);
  void launch_ready_buckets();
  void launch(Bucket& bucket);
  torch::Tensor slice(std::size_t index);

  std::vector<torch::Tensor> parameters_;
  Communicator& communicator_;
  std::size_t bucket_bytes_;
  std::vector<Slot> slots_;
  std::vector<Bucket> buckets_;
  std::vector<bool> trainable_;  // the requires_grad pattern the buckets were built for
  std::size_t next_launch_ = 0;  // buckets launch in order, so every rank issues the same sequence
  bool sync_ = false;
  std::mutex mutex_;  // hooks may run on autograd's device threads
};

}  // namespace genolm::dist
