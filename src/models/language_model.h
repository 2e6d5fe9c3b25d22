#pragma once
// A language model: an encoder, output dropout, and a decoder tied to the encoder's embedding with
// its own bias. For the AWD-LSTM the loss adds fastai's activation regularisation: AR (alpha times
// the mean square of the dropped last-layer output) and TAR (beta times the mean square of its
// step-to-step change, on the raw output).

#include <memory>

#include "models/encoder.h"

namespace genolm::models {

struct LanguageModelOptions {
  double output_p = 0.0;
  bool locked_output_dropout = true;  // per-sequence masks (AWD-LSTM), else plain dropout
  double ar_alpha = 0.0;
  double tar_beta = 0.0;
};

struct LmLoss {
  torch::Tensor total;          // what backward() runs on
  torch::Tensor cross_entropy;  // mean next-token loss, for logs
  torch::Tensor correct;        // number of tokens whose argmax was the target
};

class LanguageModel final : public torch::nn::Module {
 public:
  LanguageModel(std::shared_ptr<Encoder> encoder, const LanguageModelOptions& options);

  // Logits [B, T, vocab], in fp32 when the encoder computed in bf16.
  torch::Tensor forward(const torch::Tensor& ids);
  LmLoss loss(const torch::Tensor& ids, const torch::Tensor& targets);

  const std::shared_ptr<Encoder>& encoder() const { return encoder_; }
  const LanguageModelOptions& options() const { return options_; }

 private:
  struct Pass {
    torch::Tensor raw, dropped, logits;
  };
  Pass run(const torch::Tensor& ids);

  std::shared_ptr<Encoder> encoder_;
  torch::Tensor decoder_bias_;
  LanguageModelOptions options_;
};

}  // namespace genolm::models
