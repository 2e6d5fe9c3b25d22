#include "train/sequence_likelihood.h"

#include <torch/torch.h>

#include "genolm/error.h"
#include "genolm/tokenizers/specials.h"
#include "train/device.h"
#include "train/inference.h"
#include "train/precision.h"

namespace genolm::train {
namespace {

// A whole right-padded batch from the initial state: the inputs are the targets shifted right
// behind <bos>, so position t predicts token t from <bos> and tokens 0..t-1.
void for_each_chunk_of_batch(
    models::LanguageModel& model, const BatchTensors& batch, const LikelihoodOptions& options,
    const std::function<void(std::int64_t, std::int64_t, const torch::Tensor&)>& use) {
  const auto& targets = batch.ids;
  const auto bos =
      torch::full({targets.size(0), 1}, tokenizers::SpecialIds::bos, targets.options());
  const auto inputs = torch::cat({bos, targets.slice(1, 0, targets.size(1) - 1)}, 1);
  model.encoder()->reset();
  for_each_chunk(model, inputs, targets, batch.lengths, options.chunk, use);
  model.encoder()->reset();
}

template <typename PerBatch>
torch::Tensor map_batches(models::LanguageModel& model,
                          const std::vector<std::vector<std::int32_t>>& tokens,
                          const LikelihoodOptions& options, PerBatch&& per_batch) {
  if (options.chunk < 1) throw Error("internal: a likelihood chunk must hold a token");
  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard no_grad;
  const torch::Device device = device_of(model);
  auto result =
      map_in_length_batches(tokens, options.batch_size, device, [&](const BatchTensors& batch) {
        Bf16Autocast autocast(options.autocast, device.type());
        return per_batch(batch);
      });
  if (was_training) model.train();
  return result;
}

}  // namespace

void for_each_chunk(
    models::LanguageModel& model, const torch::Tensor& inputs, const torch::Tensor& targets,
    const torch::Tensor& lengths, std::int64_t chunk,
    const std::function<void(std::int64_t, std::int64_t, const torch::Tensor&)>& use) {
  const std::int64_t steps = targets.size(1);
  for (std::int64_t start = 0; start < steps; start += chunk) {
    const std::int64_t end = std::min(steps, start + chunk);
    const auto logits = model.forward(inputs.slice(1, start, end));  // [rows, C, vocab], fp32
    const auto log_p = torch::log_softmax(logits, -1)
                           .gather(2, targets.slice(1, start, end).unsqueeze(2))
                           .squeeze(2);
    const auto positions = torch::arange(start, end, lengths.options()).unsqueeze(0);
    const auto real = positions < lengths.unsqueeze(1);
    use(start, end, log_p.masked_fill(real.logical_not(), 0).to(torch::kDouble));
  }
}

torch::Tensor sequence_log_likelihoods(models::LanguageModel& model,
                                       const std::vector<std::vector<std::int32_t>>& tokens,
                                       const LikelihoodOptions& options) {
  if (tokens.empty()) return torch::zeros({0}, torch::kDouble);
  return map_batches(
             model, tokens, options,
             [&](const BatchTensors& batch) {
               auto total =
                   torch::zeros({batch.ids.size(0)}, batch.ids.options().dtype(torch::kDouble));
               for_each_chunk_of_batch(model, batch, options,
                                       [&](std::int64_t, std::int64_t, const torch::Tensor& log_p) {
                                         total += log_p.sum(1);
                                       });
               return total.unsqueeze(1);
             })
      .squeeze(1);
}

torch::Tensor token_log_probabilities(models::LanguageModel& model,
                                      const std::vector<std::vector<std::int32_t>>& tokens,
                                      const LikelihoodOptions& options) {
  if (tokens.empty()) return torch::zeros({0, 0}, torch::kDouble);
  std::int64_t longest = 0;
  for (const auto& sequence : tokens)
    longest = std::max(longest, static_cast<std::int64_t>(sequence.size()));
  return map_batches(model, tokens, options, [&](const BatchTensors& batch) {
    auto all =
        torch::zeros({batch.ids.size(0), longest}, batch.ids.options().dtype(torch::kDouble));
    for_each_chunk_of_batch(model, batch, options,
                            [&](std::int64_t start, std::int64_t end, const torch::Tensor& log_p) {
                              all.slice(1, start, end).copy_(log_p);
                            });
    return all;
  });
}

}  // namespace genolm::train
