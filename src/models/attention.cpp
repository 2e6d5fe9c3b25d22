#include "models/attention.h"

#include <ATen/ATen.h>
#include <torch/version.h>

namespace genolm::models {

at::Tensor causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            double dropout_p) {
#if TORCH_VERSION_MAJOR >= 2
  return at::scaled_dot_product_attention(q, k, v, /*attn_mask=*/{}, dropout_p, /*is_causal=*/true);
#else
  return std::get<0>(at::_scaled_dot_product_attention(q, k, v, /*attn_mask=*/{}, dropout_p,
                                                       /*need_attn_weights=*/false,
                                                       /*is_causal=*/true));
#endif
}

}  // namespace genolm::models
