#pragma once
// DropConnect (fastai's WeightDropout) on a weight matrix, with its mask drawn in parallel on the
// CPU.
//
// at::dropout on the CPU draws its Bernoulli mask one element at a time from the global generator:
// 7.5 ms for a 2048 x 512 recurrent weight, about 5% of a small AWD-LSTM's training step (two such
// weights every forward). Here one 64-bit seed comes from the global generator, so checkpoints,
// which keep its state, still resume exactly; the mask is then filled in blocks from ATen's
// counter-based Philox engine, one subsequence per block, so it is the same for any thread count.

#include <torch/types.h>

namespace genolm::models {

// weight * mask / (1 - p), each mask element kept with probability 1 - p; differentiable in
// weight, with zero gradient where an element was dropped. GPU tensors go through at::dropout.
torch::Tensor drop_connect(const torch::Tensor& weight, double p);

}  // namespace genolm::models
