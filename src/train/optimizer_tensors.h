#pragma once
// AdamW's state in a checkpoint's safetensors file: each parameter's step and moments as tensors
// named optimizer.GROUP.INDEX.{step,exp_avg,exp_avg_sq,max_exp_avg_sq}, and each group's options
// (learning rate, betas, eps, weight decay, amsgrad, parameter count) as JSON in the metadata.

#include <torch/optim/optimizer.h>

#include <nlohmann/json.hpp>

#include "io/safetensors.h"
#include "train/tensor_file.h"

namespace genolm::train {

// Appends the state's tensors to `tensors` and returns the groups' options. Throws genolm::Error
// for an optimizer other than AdamW, the only one genolm trains with.
nlohmann::json add_optimizer_tensors(const torch::optim::Optimizer& optimizer,
                                     NamedTensors& tensors);

// Restores options and state into an optimizer built over the same parameters, each moment on its
// parameter's device. Throws genolm::Error naming the file when the groups, their sizes or a
// moment's shape differ from the optimizer's.
void load_optimizer_tensors(torch::optim::Optimizer& optimizer, const io::SafetensorsFile& file,
                            const nlohmann::json& groups);

}  // namespace genolm::train
