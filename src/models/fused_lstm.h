#pragma once
// One LSTM layer over a whole sequence with a hand-written backward, for fp32 and fp64 on the CPU.
//
// ATen's CPU LSTM (at::lstm) records every gate operation of every time step in the autograd graph,
// and each of those small operations opens and closes an OpenMP region; on 2 cores more than half
// of a training step was spent with threads waiting at barriers. Here the forward does one large
// GEMM for the input projection of all steps, then per step one GEMM and the gate math (ATen's
// vectorised sigmoid and tanh, plain loops for the cell), split by rows over the threads; the
// backward does per step one GEMM and one fused loop, and the weight gradients as three large GEMMs
// over all steps. Gate order (input, forget, cell, output) and weight shapes are
// PyTorch's, so weights move freely between this and at::lstm (which bf16 still uses: oneDNN fuses
// it there).

#include <ATen/Tensor.h>

#include <tuple>

namespace genolm::models {

// Time-major: x [T, B, in] (T >= 1), h0 and c0 [B, H], w_ih [4H, in], w_hh [4H, H], biases [4H].
// Returns the outputs [T, B, H] and the last h and c [B, H]; differentiable in every input.
std::tuple<at::Tensor, at::Tensor, at::Tensor> fused_lstm_layer(
    const at::Tensor& x, const at::Tensor& h0, const at::Tensor& c0, const at::Tensor& w_ih,
    const at::Tensor& w_hh, const at::Tensor& b_ih, const at::Tensor& b_hh);

}  // namespace genolm::models
