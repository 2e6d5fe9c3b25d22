#pragma once
// LibTorch tensors in safetensors files (io/safetensors.h): a module's weights in, and back out of,
// the validated container. Loading checks every name, shape and dtype against the module before
// one value is copied, so a file that does not fit the model is an error naming it.

#include <torch/nn/module.h>
#include <torch/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "io/safetensors.h"

namespace genolm::train {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// The module's parameters, then its buffers, under their dotted names prefixed by `prefix`.
NamedTensors module_tensors(const torch::nn::Module& module, const std::string& prefix = "");

// The bytes of a safetensors file holding `tensors` (copied to the CPU) and `metadata`.
std::string encode_tensors(const NamedTensors& tensors,
                           const std::map<std::string, std::string>& metadata);

// A stored tensor as a LibTorch tensor of its own, on the CPU.
torch::Tensor to_torch(const io::StoredTensor& stored);

// Copies the file's tensors named `prefix` + a parameter's or buffer's name into the module, on
// the module's device. Every parameter and buffer must be there with its shape and dtype, and no
// other tensor under `prefix` may be; otherwise throws genolm::Error naming the file and tensor.
void load_module_tensors(torch::nn::Module& module, const io::SafetensorsFile& file,
                         const std::string& prefix = "");

}  // namespace genolm::train
