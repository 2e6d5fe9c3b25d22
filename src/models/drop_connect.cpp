#include "models/drop_connect.h"

#include <ATen/Parallel.h>
#include <ATen/core/PhiloxRNGEngine.h>

#include <cmath>
#include <cstdint>
#include <limits>

namespace genolm::models {
namespace {

// Elements per Philox subsequence; also the smallest piece of work a thread takes.
constexpr std::int64_t kBlock = 4096;

}  // namespace

torch::Tensor drop_connect(const torch::Tensor& weight, double p) {
  TORCH_CHECK(p >= 0 && p <= 1, "DropConnect probability ", p,
              " is outside [0, 1] (model.weight_p times model.drop_mult)");
  if (p == 0) return weight;
  if (!weight.is_cpu()) return at::dropout(weight, p, /*train=*/true);
  const auto seed = static_cast<std::uint64_t>(
      torch::randint(std::numeric_limits<std::int64_t>::max(), {1}, torch::kLong)
          .item<std::int64_t>());
  // Each 32-bit Philox draw decides two elements, 16 bits each: a half below `threshold` keeps its
  // element, with probability threshold / 65536 (within 1/131072 of 1 - p). Kept elements are
  // scaled by its inverse, so the mask's expectation is exactly 1.
  const auto threshold = static_cast<std::uint32_t>(std::lround((1.0 - p) * 65536.0));
  const float kept = threshold > 0 ? static_cast<float>(65536.0 / threshold) : 0.0f;
  auto mask = torch::empty(weight.sizes(), weight.options().dtype(torch::kFloat));
  float* out = mask.data_ptr<float>();
  const std::int64_t n = mask.numel();
  const std::int64_t blocks = (n + kBlock - 1) / kBlock;
  at::parallel_for(0, blocks, 1, [&](std::int64_t first, std::int64_t last) {
    for (std::int64_t block = first; block < last; ++block) {
      at::Philox4_32 engine(seed, static_cast<std::uint64_t>(block));
      const std::int64_t end = std::min(n, (block + 1) * kBlock);
      for (std::int64_t i = block * kBlock; i < end; i += 2) {
        const std::uint32_t draw = engine();
        out[i] = (draw & 0xFFFFu) < threshold ? kept : 0.0f;
        if (i + 1 < end) out[i + 1] = (draw >> 16) < threshold ? kept : 0.0f;
      }
    }
  });
  return weight * mask.to(weight.scalar_type());
}

}  // namespace genolm::models
