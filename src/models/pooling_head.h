#pragma once
// fastai's pooling classifier head: the encoder's states are pooled three ways over the real
// (unpadded) tokens of each sequence — the last real token's state, the masked max and the masked
// mean — concatenated, then passed through blocks of batch-norm, dropout and linear layers (ReLU
// between them). Classification reads its outputs as logits; regression as values, optionally
// squashed into an output range by a scaled sigmoid (fastai's y_range).

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>

#include <optional>
#include <utility>

namespace genolm::models {

// states [B, T, D] and lengths [B] (int64, each at least 1) -> [B, 3D]: last, max, mean. Padded
// positions (at and after a row's length) never influence the result.
torch::Tensor masked_concat_pool(const torch::Tensor& states, const torch::Tensor& lengths);

// One of the three poolings alone, or all of them ("concat"), for embeddings.
enum class Pooling { last, max, mean, concat };
torch::Tensor masked_pool(const torch::Tensor& states, const torch::Tensor& lengths, Pooling how);

struct PoolingHeadOptions {
  std::int64_t input_size = 0;    // the encoder's D; the head sees 3 * D
  std::int64_t hidden_size = 50;  // fastai's lin_ftrs = [50]
  std::int64_t hidden_layers = 1;
  std::int64_t outputs = 2;
  double first_dropout = 0.4;  // the encoder's output dropout (fastai's output_p)
  double dropout = 0.1;        // every later block
  std::optional<std::pair<double, double>> output_range;
};

class PoolingHead final : public torch::nn::Module {
 public:
  explicit PoolingHead(const PoolingHeadOptions& options);
  // pooled [B, 3D] -> [B, outputs]
  torch::Tensor forward(const torch::Tensor& pooled);
  const PoolingHeadOptions& options() const { return options_; }

 private:
  PoolingHeadOptions options_;
  torch::nn::Sequential layers_{nullptr};
};

}  // namespace genolm::models
