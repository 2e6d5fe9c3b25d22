#pragma once
// A model trained one batch at a time outside a training run, exactly as its loop would start
// training it: the learning-rate finder's view of a loop (train/lr_find_trainer.h). The loops build
// it (probe_language_model in lm_trainer.h, probe_classifier in finetune_trainer.h), so the model,
// its batches and its loss are the run's own; nothing is saved.

#include <torch/nn/module.h>
#include <torch/types.h>

#include <functional>
#include <vector>

namespace genolm::train {

// One batch's loss: what backward runs on (with any regularisation) and what is recorded.
struct ProbeLoss {
  torch::Tensor for_backward;
  double value = 0;
};

struct LossProbe {
  torch::nn::Module* model = nullptr;  // in train mode, on `device`
  torch::Device device = torch::kCPU;
  // The optimizer's parameter groups, from the input side up, and each group's rate relative to
  // the rate being swept (1 for the top group; fine-tuning's lower groups take 1 / lr_div^k).
  std::vector<std::vector<torch::Tensor>> groups;
  std::vector<double> relative_rates;
  double grad_clip = 0;  // the loop's clipping; 0: none
  double weight_decay = 0;
  std::function<ProbeLoss()> next_loss;  // the next training batch, forward
};

}  // namespace genolm::train
