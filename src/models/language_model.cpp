#include "models/language_model.h"

#include <ATen/ATen.h>

namespace genolm::models {
namespace {

// Losses are computed in fp32 when the model ran in bf16, and in the model's own type otherwise
// (fp64 in gradient checks).
torch::Tensor widened(const torch::Tensor& t) {
  return t.scalar_type() == torch::kBFloat16 ? t.to(torch::kFloat) : t;
}

}  // namespace

LanguageModel::LanguageModel(std::shared_ptr<Encoder> encoder, const LanguageModelOptions& options)
    : encoder_(register_module("encoder", std::move(encoder))), options_(options) {
  decoder_bias_ =
      register_parameter("decoder_bias", torch::zeros({encoder_->embedding_weight().size(0)}));
}

LanguageModel::Pass LanguageModel::run(const torch::Tensor& ids) {
  Pass pass;
  pass.raw = encoder_->forward(ids);
  const bool training = is_training();
  pass.dropped = options_.locked_output_dropout
                     ? locked_dropout(pass.raw, options_.output_p, training)
                     : at::dropout(pass.raw, options_.output_p, training);
  // The tied decoder computes in the dtype the encoder produced (bf16 or fp32); logits are fp32.
  const auto dtype = pass.dropped.scalar_type();
  pass.logits = widened(
      at::linear(pass.dropped, encoder_->embedding_weight().to(dtype), decoder_bias_.to(dtype)));
  return pass;
}

torch::Tensor LanguageModel::forward(const torch::Tensor& ids) {
  return run(ids).logits;
}

LmLoss LanguageModel::loss(const torch::Tensor& ids, const torch::Tensor& targets) {
  const Pass pass = run(ids);
  LmLoss loss;
  const auto flat_logits = pass.logits.reshape({-1, pass.logits.size(-1)});
  const auto flat_targets = targets.reshape({-1});
  loss.cross_entropy = at::cross_entropy_loss(flat_logits, flat_targets);
  loss.total = loss.cross_entropy;
  if (is_training() && options_.ar_alpha > 0) {
    loss.total = loss.total + options_.ar_alpha * widened(pass.dropped).pow(2).mean();
  }
  if (is_training() && options_.tar_beta > 0 && pass.raw.size(1) > 1) {
    const auto raw = widened(pass.raw);
    const auto change = raw.slice(1, 1) - raw.slice(1, 0, raw.size(1) - 1);
    loss.total = loss.total + options_.tar_beta * change.pow(2).mean();
  }
  loss.correct = (flat_logits.argmax(-1) == flat_targets).sum();
  return loss;
}

}  // namespace genolm::models
