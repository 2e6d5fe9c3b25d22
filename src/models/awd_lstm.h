#pragma once
// AWD-LSTM (Merity et al.) with fastai's semantics: embedding dropout on whole vocabulary rows,
// locked dropout on the input, between layers (hidden) and, in the heads, on the output;
// DropConnect on every hidden-to-hidden weight; the last layer sized to the embedding so a decoder
// can be tied to it; hidden state carried across batches (truncated BPTT) until reset().

#include "models/encoder.h"

namespace genolm::models {

struct AwdLstmOptions {
  std::int64_t vocab_size = 0;
  std::int64_t emb_size = 400;
  std::int64_t hidden_size = 1152;
  std::int64_t layers = 3;
  std::int64_t pad_id = 0;
  // fastai's language-model dropouts; multiply by drop_mult before passing them.
  double embed_p = 0.02;
  double input_p = 0.25;
  double hidden_p = 0.15;
  double weight_p = 0.2;
  double output_p = 0.1;  // applied by the heads, kept here so model.json has every dropout

  AwdLstmOptions scaled(double drop_mult) const;
};

// Embedding dropout: whole rows of the embedding matrix (whole tokens) zeroed for a forward pass,
// the rest scaled by 1/(1-p). The mask is [vocab, 1], drawn in fp32.
torch::Tensor embedding_dropout(const torch::Tensor& weight, double p, bool training);

class AwdLstm final : public Encoder {
 public:
  explicit AwdLstm(const AwdLstmOptions& options);

  torch::Tensor forward(const torch::Tensor& ids) override;
  void reset() override;
  std::vector<torch::Tensor> state() const override;
  void set_state(const std::vector<torch::Tensor>& state) override;
  torch::Tensor embedding_weight() override { return embedding_; }
  std::int64_t output_size() const override { return options_.emb_size; }
  std::int64_t layer_count() const override { return options_.layers; }
  std::vector<std::vector<torch::Tensor>> layer_groups() override;
  nlohmann::json describe() const override;
  bool carries_state() const override { return true; }
  Bf16Mode bf16_mode() const override { return Bf16Mode::explicit_cast; }
  std::int64_t window(std::int64_t stateful_chunk) const override { return stateful_chunk; }
  double output_dropout() const override { return options_.output_p; }

  const AwdLstmOptions& options() const { return options_; }

 private:
  struct Layer {
    torch::Tensor w_ih, w_hh_raw, b_ih, b_hh;  // w_hh_raw is DropConnect's raw weight
    std::int64_t hidden = 0;
  };

  AwdLstmOptions options_;
  torch::Tensor embedding_;
  std::vector<Layer> layers_;
  std::vector<torch::Tensor> hidden_;  // h and c of every layer, [1, B, H] each, fp32, detached
};

}  // namespace genolm::models
