#pragma once
// Causal scaled-dot-product attention through LibTorch's fused kernel, whose name and signature
// differ between LibTorch 1.13 (at::_scaled_dot_product_attention, returning output and weights)
// and 2.x (at::scaled_dot_product_attention, returning the output). This is the one place that
// knows.

#include <ATen/Tensor.h>

namespace genolm::models {

// q, k, v: [B, heads, T, head_dim]; returns [B, heads, T, head_dim].
at::Tensor causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            double dropout_p);

}  // namespace genolm::models
