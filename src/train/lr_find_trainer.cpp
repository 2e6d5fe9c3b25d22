#include "train/lr_find_trainer.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <string>

#include "genolm/error.h"
#include "train/fused_adamw.h"
#include "util/heap.h"
#include "util/log.h"

namespace genolm::train {

LrCurve find_learning_rate(LossProbe& probe, const LrFindOptions& options) {
  if (probe.groups.empty() || probe.groups.size() != probe.relative_rates.size() ||
      !probe.next_loss) {
    throw Error("internal: a loss probe needs its groups, one relative rate per group and a loss");
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  std::vector<torch::Tensor> parameters;
  for (const auto& group : probe.groups) {
    groups.emplace_back(group, std::make_unique<torch::optim::AdamWOptions>(
                                   torch::optim::AdamWOptions(options.start_lr)
                                       .betas({0.9, 0.99})
                                       .eps(1e-5)
                                       .weight_decay(probe.weight_decay)));
    parameters.insert(parameters.end(), group.begin(), group.end());
  }
  FusedAdamW optimizer(std::move(groups));
  keep_freed_memory_in_heap();  // every step frees and reallocates the same tensors
  const double max_norm =
      probe.grad_clip > 0 ? probe.grad_clip : std::numeric_limits<double>::infinity();

  std::int64_t step = 0;
  const auto train_step = [&](double lr) {
    auto& optimizer_groups = optimizer.param_groups();
    for (std::size_t g = 0; g < optimizer_groups.size(); ++g)
      static_cast<torch::optim::AdamWOptions&>(optimizer_groups[g].options())
          .lr(lr * probe.relative_rates[g]);
    const ProbeLoss loss = probe.next_loss();
    loss.for_backward.backward();
    torch::nn::utils::clip_grad_norm_(parameters, max_norm);
    optimizer.step();
    optimizer.zero_grad();
    if (++step % 10 == 0 || !std::isfinite(loss.value))
      log("lr-find")->info("step {}/{} lr {:.3e} loss {:.4f}", step, options.steps, lr, loss.value);
    return loss.value;
  };
  return sweep_learning_rates(options, train_step);
}

}  // namespace genolm::train
