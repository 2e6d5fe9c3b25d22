#include "train/sequence_likelihood.h"

#include <torch/torch.h>

#include "genolm/error.h"
#include "genolm/tokenizers/specials.h"
#include "train/device.h"
#include "train/inference.h"
#include "train/precision.h"

namespace genolm::train {
namespace {

// Log-likelihoods [rows, 1] of one right-padded batch: the inputs are the targets shifted right
// behind <bos>, so position t predicts token t from <bos> and tokens 0..t-1. Padding sits after
// every real token, so a causal model's predictions for real tokens never see it; it is masked
// out of the sum.
torch::Tensor batch_log_likelihoods(models::LanguageModel& model, const BatchTensors& batch,
                                    const LikelihoodOptions& options) {
  const auto& targets = batch.ids;
  const std::int64_t rows = targets.size(0), steps = targets.size(1);
  const auto bos = torch::full({rows, 1}, tokenizers::SpecialIds::bos, targets.options());
  const auto inputs = torch::cat({bos, targets.slice(1, 0, steps - 1)}, 1);
  auto& encoder = *model.encoder();
  encoder.reset();
  auto total = torch::zeros({rows}, targets.options().dtype(torch::kDouble));
  for (std::int64_t start = 0; start < steps; start += options.chunk) {
    const std::int64_t end = std::min(steps, start + options.chunk);
    const auto logits = model.forward(inputs.slice(1, start, end));  // [rows, C, vocab], fp32
    const auto chunk_targets = targets.slice(1, start, end);
    const auto log_p =
        torch::log_softmax(logits, -1).gather(2, chunk_targets.unsqueeze(2)).squeeze(2);
    const auto positions = torch::arange(start, end, batch.lengths.options()).unsqueeze(0);
    const auto real = positions < batch.lengths.unsqueeze(1);
    total += log_p.masked_fill(real.logical_not(), 0).to(torch::kDouble).sum(1);
  }
  encoder.reset();
  return total.unsqueeze(1);
}

}  // namespace

torch::Tensor sequence_log_likelihoods(models::LanguageModel& model,
                                       const std::vector<std::vector<std::int32_t>>& tokens,
                                       const LikelihoodOptions& options) {
  if (options.chunk < 1) throw Error("internal: a likelihood chunk must hold a token");
  if (tokens.empty()) return torch::zeros({0}, torch::kDouble);
  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard no_grad;
  const torch::Device device = device_of(model);
  auto result =
      map_in_length_batches(tokens, options.batch_size, device, [&](const BatchTensors& batch) {
        Bf16Autocast autocast(options.autocast, device.type());
        return batch_log_likelihoods(model, batch, options);
      });
  if (was_training) model.train();
  return result.squeeze(1);
}

}  // namespace genolm::train
