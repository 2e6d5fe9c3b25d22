#pragma once
// AdamW whose step updates each parameter in one threaded pass on the CPU.
//
// torch::optim::AdamW (LibTorch 1.13) updates a parameter with about ten tensor operations, some
// of them allocating; on the small AWD-LSTM (3.75 M parameters, 2 threads) that step took about
// 30 ms, a tenth of a training step. Here each parameter, its gradient and both moments are read
// once. The update is AdamW's term for term (decoupled weight decay, bias-corrected moments, eps
// added to the corrected square root), and the state (step, exp_avg, exp_avg_sq) is the base
// class's, so save/load and checkpoints are unchanged and interchangeable with torch::optim::AdamW.
// Anything the fused pass does not cover (a GPU, non-contiguous or sparse tensors, amsgrad, other
// dtypes than fp32/fp64) takes the base class's step.

#include <torch/optim/adamw.h>

namespace genolm::train {

class FusedAdamW : public torch::optim::AdamW {
 public:
  using torch::optim::AdamW::AdamW;

  torch::Tensor step(LossClosure closure = nullptr) override;

 private:
  bool fused_pass_covers_every_parameter();
};

}  // namespace genolm::train
