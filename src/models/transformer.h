#pragma once
// A causal transformer decoder: pre-norm blocks (attention and a GELU MLP, each behind a
// LayerNorm and a residual), rotary or learned positions, a final LayerNorm. Language-model
// decoders tie their output projection to its embedding.

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "models/encoder.h"

namespace genolm::models {

struct TransformerOptions {
  std::int64_t vocab_size = 0;
  std::int64_t d_model = 512;
  std::int64_t heads = 8;
  std::int64_t ff_size = 2048;
  std::int64_t layers = 6;
  std::int64_t context = 512;
  double dropout = 0.1;
  std::string positions = "rotary";  // or "learned"
};

class Transformer final : public Encoder {
 public:
  explicit Transformer(const TransformerOptions& options);

  torch::Tensor forward(const torch::Tensor& ids) override;
  torch::Tensor embedding_weight() override { return embedding_; }
  std::int64_t output_size() const override { return options_.d_model; }
  std::int64_t layer_count() const override { return options_.layers; }
  std::vector<std::vector<torch::Tensor>> layer_groups() override;
  nlohmann::json describe() const override;
  bool carries_state() const override { return false; }
  Bf16Mode bf16_mode() const override { return Bf16Mode::autocast; }
  std::int64_t window(std::int64_t /*stateful_chunk*/) const override { return options_.context; }
  double output_dropout() const override { return options_.dropout; }

 private:
  struct Block {
    torch::nn::LayerNorm attention_norm{nullptr}, mlp_norm{nullptr};
    torch::nn::Linear qkv{nullptr}, out{nullptr}, up{nullptr}, down{nullptr};
  };
  torch::Tensor block_forward(Block& block, const torch::Tensor& x);
  torch::Tensor attention(Block& block, const torch::Tensor& x);
  torch::Tensor rotate(const torch::Tensor& x) const;  // rotary positions on [B, H, T, D]

  TransformerOptions options_;
  torch::Tensor embedding_;
  torch::Tensor positions_;                // learned positions [context, d], when chosen
  torch::Tensor rotary_cos_, rotary_sin_;  // [context, head_dim], buffers
  std::vector<Block> blocks_;
  torch::nn::LayerNorm final_norm_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};

}  // namespace genolm::models
