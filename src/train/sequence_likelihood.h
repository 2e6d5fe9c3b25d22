#pragma once
// How likely a causal language model finds whole sequences: the sum over a sequence's tokens of
// log p(token | <bos>, the tokens before it), the way pretraining read them (every corpus record
// starts with <bos>). `genolm score`'s zero-shot fitness comes from here, and so will the
// log-likelihood ratios of variants.

#include <cstdint>
#include <functional>
#include <vector>

#include "models/language_model.h"

namespace genolm::train {

struct LikelihoodOptions {
  std::int64_t batch_size = 64;
  // Tokens the encoder reads at a time. An LSTM carries its state from chunk to chunk, so the
  // result does not depend on it; a transformer reads windows of its context, each on its own.
  std::int64_t chunk = 70;
  bool autocast = false;  // bf16 autocast (the transformer in bf16)
};

// Natural-log likelihoods [sequences] (float64) of `tokens` (each nonempty, already in the order
// the model reads: reversed for a backward model), in the sequences' own order. Runs in inference
// mode; the model's training flag is restored.
torch::Tensor sequence_log_likelihoods(models::LanguageModel& model,
                                       const std::vector<std::vector<std::int32_t>>& tokens,
                                       const LikelihoodOptions& options);

// Reads `inputs` [rows, steps] (at each position the token before the target: <bos> or the
// previous token) from the encoder's current state, `chunk` steps at a time, and hands each
// chunk's log-probabilities of `targets`, [rows, end - start] float64 with the positions past
// each row's `lengths` at 0, to `use(start, end, log_p)`. Padding after the real tokens is never
// seen by a causal model's predictions for them. The caller resets or sets the encoder's state.
void for_each_chunk(
    models::LanguageModel& model, const torch::Tensor& inputs, const torch::Tensor& targets,
    const torch::Tensor& lengths, std::int64_t chunk,
    const std::function<void(std::int64_t, std::int64_t, const torch::Tensor&)>& use);

// Each token's natural-log probability given <bos> and the tokens before it: [sequences x the
// longest sequence's tokens] (float64), rows in the sequences' order, 0 past a sequence's end.
// Held whole in memory: for windows (variants, mutagenesis), not for genome-long records.
torch::Tensor token_log_probabilities(models::LanguageModel& model,
                                      const std::vector<std::vector<std::int32_t>>& tokens,
                                      const LikelihoodOptions& options);

}  // namespace genolm::train
