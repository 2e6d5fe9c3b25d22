#pragma once
// The key under which a LibTorch optimizer keeps a parameter's state: 1.13 keys it by the
// TensorImpl's address written as text, 2.x by the address itself. Code that reads or writes the
// state beside LibTorch's own optimizers (the fused AdamW, checkpoints) must use the same key.

#include <torch/types.h>

#include <sstream>
#include <string>
#include <type_traits>

namespace genolm::train {

template <typename StateMap>
typename StateMap::key_type optimizer_state_key(const StateMap& /*state*/,
                                                const torch::Tensor& parameter) {
  if constexpr (std::is_same_v<typename StateMap::key_type, std::string>) {
    std::ostringstream address;  // as 1.13's c10::guts::to_string writes a pointer
    address << parameter.unsafeGetTensorImpl();
    return address.str();
  } else {
    return parameter.unsafeGetTensorImpl();
  }
}

}  // namespace genolm::train
