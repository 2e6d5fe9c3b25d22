#include "train/fused_adamw.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <cmath>
#include <memory>
#include <string>

#include "train/optimizer_state_key.h"

namespace genolm::train {
namespace {

using torch::optim::AdamWOptions;
using torch::optim::AdamWParamState;

// Elements per task: the pass is memory-bound, and smaller tensors (biases) are not worth a thread.
constexpr std::int64_t kElementsPerTask = 16384;

// The scalars of one parameter's update, computed in double as the base class does.
struct Coefficients {
  double decay;         // 1 - lr * weight_decay
  double beta1, beta2;  // moment decay
  double step_size;     // lr / (1 - beta1^step)
  double bias2_sqrt;    // sqrt(1 - beta2^step)
  double eps;
};

template <typename T>
void update(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, std::int64_t n,
            const Coefficients& k) {
  const T decay = static_cast<T>(k.decay);
  const T beta1 = static_cast<T>(k.beta1), one_minus_beta1 = static_cast<T>(1 - k.beta1);
  const T beta2 = static_cast<T>(k.beta2), one_minus_beta2 = static_cast<T>(1 - k.beta2);
  const T step_size = static_cast<T>(k.step_size);
  const T bias2_sqrt = static_cast<T>(k.bias2_sqrt), eps = static_cast<T>(k.eps);
  at::parallel_for(0, n, kElementsPerTask, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      const T g = grad[i];
      const T m = exp_avg[i] * beta1 + g * one_minus_beta1;
      const T v = exp_avg_sq[i] * beta2 + g * g * one_minus_beta2;
      exp_avg[i] = m;
      exp_avg_sq[i] = v;
      param[i] = param[i] * decay - step_size * m / (std::sqrt(v) / bias2_sqrt + eps);
    }
  });
}

bool fusable(const at::Tensor& t, const at::Tensor& like) {
  return t.defined() && t.is_cpu() && !t.is_sparse() && t.is_contiguous() &&
         t.scalar_type() == like.scalar_type() && t.numel() == like.numel();
}

}  // namespace

bool FusedAdamW::fused_pass_covers_every_parameter() {
  for (auto& group : param_groups()) {
    if (static_cast<const AdamWOptions&>(group.options()).amsgrad()) return false;
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const auto type = p.scalar_type();
      if ((type != at::kFloat && type != at::kDouble) || !fusable(p, p) || !fusable(p.grad(), p))
        return false;
      const auto found = state_.find(optimizer_state_key(state_, p));
      if (found == state_.end()) continue;
      const auto& state = static_cast<const AdamWParamState&>(*found->second);
      if (!fusable(state.exp_avg(), p) || !fusable(state.exp_avg_sq(), p)) return false;
    }
  }
  return true;
}

torch::Tensor FusedAdamW::step(LossClosure closure) {
  torch::Tensor loss;
  if (closure) {
    // The closure computes the gradients, so which pass covers them is known only afterwards.
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  if (!fused_pass_covers_every_parameter()) {
    torch::optim::AdamW::step();
    return loss;
  }
  torch::NoGradGuard no_grad;
  for (auto& group : param_groups()) {
    const auto& options = static_cast<const AdamWOptions&>(group.options());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto& slot = state_[optimizer_state_key(state_, p)];
      if (!slot) {
        auto fresh = std::make_unique<AdamWParamState>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(p, at::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, at::MemoryFormat::Preserve));
        slot = std::move(fresh);
      }
      auto& state = static_cast<AdamWParamState&>(*slot);
      state.step(state.step() + 1);
      const auto [beta1, beta2] = options.betas();
      const auto step = static_cast<double>(state.step());
      const Coefficients k{1 - options.lr() * options.weight_decay(),
                           beta1,
                           beta2,
                           options.lr() / (1 - std::pow(beta1, step)),
                           std::sqrt(1 - std::pow(beta2, step)),
                           options.eps()};
      const torch::Tensor grad = p.grad();
      const torch::Tensor exp_avg = state.exp_avg();
      const torch::Tensor exp_avg_sq = state.exp_avg_sq();
      AT_DISPATCH_FLOATING_TYPES(p.scalar_type(), "fused_adamw", [&] {
        update<scalar_t>(p.data_ptr<scalar_t>(), grad.data_ptr<scalar_t>(),
                         exp_avg.data_ptr<scalar_t>(), exp_avg_sq.data_ptr<scalar_t>(), p.numel(),
                         k);
      });
      // Written through raw pointers: record the in-place update as an ATen op would, so a graph
      // that saved the old values refuses to run backward instead of using the new ones.
      for (const torch::Tensor& updated : {p, exp_avg, exp_avg_sq})
        updated.unsafeGetTensorImpl()->bump_version();
    }
  }
  return loss;
}

}  // namespace genolm::train
