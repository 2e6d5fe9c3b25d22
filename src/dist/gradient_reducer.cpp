#include "dist/gradient_reducer.h"

#include <string>
#include <unordered_set>
#include <utility>

#include "genolm/error.h"

namespace genolm::dist {
namespace {

constexpr std::int64_t kBucketElementBytes = 4;  // buckets are fp32 whatever the parameter dtype

std::vector<bool> trainable_pattern(const std::vector<torch::Tensor>& parameters) {
  std::vector<bool> pattern(parameters.size());
  for (std::size_t i = 0; i < parameters.size(); ++i)
    pattern[i] = parameters[i].requires_grad();
  return pattern;
}

}  // namespace

GradientReducer::GradientReducer(std::vector<torch::Tensor> parameters, Communicator& communicator,
                                 std::size_t bucket_bytes)
    : communicator_(communicator), bucket_bytes_(bucket_bytes) {
  if (communicator_.size() <= 1) return;
  // A tensor listed twice (tied weights) would get two hooks and count its gradient twice.
  std::unordered_set<const void*> seen;
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    if (!parameters[i].defined()) {
      throw Error("gradient reducer: parameter " + std::to_string(i) + " is undefined");
    }
    if (seen.insert(parameters[i].unsafeGetTensorImpl()).second) {
      parameters_.push_back(std::move(parameters[i]));
    }
  }
  slots_.resize(parameters_.size());
  prepare(false);
}

GradientReducer::~GradientReducer() {
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i].hook) continue;
    try {
      parameters_[i].remove_hook(*slots_[i].hook);
    } catch (...) {
      // A destructor must not throw; removal only fails for a hook that is already gone.
    }
  }
}

void GradientReducer::build_buckets(const std::vector<bool>& trainable) {
  buckets_.clear();
  for (auto& slot : slots_)
    slot.bucket.reset();
  std::int64_t filled = 0;
  for (std::size_t i = parameters_.size(); i-- > 0;) {
    if (!trainable[i]) continue;
    const auto& parameter = parameters_[i];
    const std::int64_t bytes = parameter.numel() * kBucketElementBytes;
    const bool start_new =
        buckets_.empty() ||
        parameters_[buckets_.back().members.front()].device() != parameter.device() ||
        (filled > 0 && static_cast<std::size_t>(filled + bytes) > bucket_bytes_);
    if (start_new) {
      buckets_.emplace_back();
      filled = 0;
    }
    slots_[i].bucket = buckets_.size() - 1;
    slots_[i].offset = filled / kBucketElementBytes;
    buckets_.back().members.push_back(i);
    filled += bytes;
  }
  for (auto& bucket : buckets_) {
    std::int64_t numel = 0;
    for (const auto i : bucket.members)
      numel += parameters_[i].numel();
    const auto device = parameters_[bucket.members.front()].device();
    bucket.buffer = torch::zeros({numel}, torch::TensorOptions(torch::kFloat32).device(device));
  }
  trainable_ = trainable;
}

torch::Tensor GradientReducer::slice(std::size_t index) {
  const auto& parameter = parameters_[index];
  const auto& slot = slots_[index];
  return buckets_[*slot.bucket]
      .buffer.narrow(0, slot.offset, parameter.numel())
      .view(parameter.sizes());
}

void GradientReducer::prepare(bool sync) {
  if (communicator_.size() <= 1) return;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& bucket : buckets_) {
    if (bucket.launched) {
      throw Error(
          "gradient reducer: prepare() called while gradients of the previous step are "
          "still being sent; call finish() after the synchronised backward pass");
    }
  }
  const auto trainable = trainable_pattern(parameters_);
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    // A hook can only go on a tensor that requires grad: frozen ones get theirs when unfrozen.
    if (trainable[i] && !slots_[i].hook) {
      slots_[i].hook = parameters_[i].register_hook(
          [this, i](const torch::Tensor& gradient) { on_gradient(i, gradient); });
    }
  }
  if (trainable != trainable_) build_buckets(trainable);
  sync_ = sync;
  if (!sync) return;
  for (auto& slot : slots_)
    slot.ready = false;
  for (auto& bucket : buckets_) {
    bucket.pending = bucket.members.size();
    bucket.work.reset();
  }
  next_launch_ = 0;
}

void GradientReducer::on_gradient(std::size_t index, const torch::Tensor& gradient) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!sync_ || !slots_[index].bucket) return;
  auto& slot = slots_[index];
  auto& bucket = buckets_[*slot.bucket];
  if (bucket.launched) {
    throw Error(
        "gradient reducer: a parameter received another gradient after its bucket was "
        "sent; call prepare() before each backward pass");
  }
  torch::NoGradGuard no_grad;
  const auto incoming = gradient.is_sparse() ? gradient.to_dense() : gradient;
  // autograd adds `incoming` into .grad only after this hook: .grad still holds what earlier
  // micro-batches accumulated, which belongs in the average too.
  auto target = slice(index);
  const auto& accumulated = parameters_[index].grad();
  if (accumulated.defined()) {
    target.copy_(accumulated.is_sparse() ? accumulated.to_dense() : accumulated);
    target.add_(incoming);
  } else {
    target.copy_(incoming);
  }
  if (slot.ready) return;  // a second backward in this step: the slice is refreshed, not recounted
  slot.ready = true;
  if (--bucket.pending == 0) launch_ready_buckets();
}

void GradientReducer::launch_ready_buckets() {
  while (next_launch_ < buckets_.size() && buckets_[next_launch_].pending == 0) {
    launch(buckets_[next_launch_++]);
  }
}

void GradientReducer::launch(Bucket& bucket) {
  bucket.work = communicator_.all_reduce_async(bucket.buffer);
  bucket.launched = true;
}

void GradientReducer::finish() {
  if (communicator_.size() <= 1) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!sync_) {
      throw Error(
          "gradient reducer: finish() needs prepare(true) before the backward pass of the "
          "last micro-batch");
    }
    torch::NoGradGuard no_grad;
    // Parameters that got no gradient in this backward (unused in the forward pass) contribute
    // what they accumulated on earlier micro-batches, or zeros.
    for (; next_launch_ < buckets_.size(); ++next_launch_) {
      auto& bucket = buckets_[next_launch_];
      for (const auto i : bucket.members) {
        if (slots_[i].ready) continue;
        const auto& accumulated = parameters_[i].grad();
        if (accumulated.defined()) {
          slice(i).copy_(accumulated.is_sparse() ? accumulated.to_dense() : accumulated);
        } else {
          slice(i).zero_();
        }
        slots_[i].ready = true;
      }
      bucket.pending = 0;
      launch(bucket);
    }
    sync_ = false;
  }
  for (auto& bucket : buckets_) {
    bucket.launched = false;  // whatever happens next, nothing of ours is in flight afterwards
    communicator_.wait(bucket.work, "the gradient all-reduce");
    bucket.work.reset();
  }
  torch::NoGradGuard no_grad;
  for (auto& bucket : buckets_) {
    bucket.buffer.div_(communicator_.size());
    for (const auto i : bucket.members) {
      auto& parameter = parameters_[i];
      if (!parameter.requires_grad()) continue;  // frozen since prepare(): leave it without grad
      auto& grad = parameter.mutable_grad();
      const auto average = slice(i);
      // Overwrite, not add: autograd already accumulated this backward's gradient into .grad.
      if (grad.defined() && !grad.is_sparse()) {
        grad.copy_(average);
      } else {
        grad = torch::empty_like(parameter).copy_(average);
      }
    }
  }
}

}  // namespace genolm::dist
