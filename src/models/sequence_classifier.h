#pragma once
// A fine-tuned model: an encoder read in chunks and a head over the states of the real tokens.
// Sequences are right-padded: causal encoders (the LSTM, the causal transformer) then compute a
// real token's state without ever seeing padding, so padding cannot change a prediction.

#include <memory>

#include "models/encoder.h"
#include "models/pooling_head.h"

namespace genolm::models {

// The encoder's states [B, T, D] (fp32) for right-padded ids [B, T], computed `chunk` tokens at a
// time from a reset state (truncated BPTT for the LSTM; independent windows for the
// transformer). Chunks that end before the last `grad_tokens` positions run without autograd:
// like fastai's max_len, gradients reach only the end of long sequences.
torch::Tensor encode_in_chunks(Encoder& encoder, const torch::Tensor& ids, std::int64_t chunk,
                               std::int64_t grad_tokens);

// masked_pool(encode_in_chunks(encoder, ids, chunk, 0), lengths, how), without autograd, in memory
// that does not grow with T: each chunk's states are folded into the running last, max and sum
// and dropped. What embed and inference use, so a record of a megabase costs its tokens, not
// T x D states (0.6 GB for 1 Mbp before).
torch::Tensor pool_in_chunks(Encoder& encoder, const torch::Tensor& ids,
                             const torch::Tensor& lengths, std::int64_t chunk, Pooling how);

class SequenceClassifier final : public torch::nn::Module {
 public:
  SequenceClassifier(std::shared_ptr<Encoder> encoder, const PoolingHeadOptions& head,
                     std::int64_t chunk, std::int64_t max_len);

  // ids [B, T] (right-padded), lengths [B] -> outputs [B, head outputs] in fp32.
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& lengths);
  // The features the head reads ([B, 3D] pooled, or [B, P*F] by position). Without autograd a
  // pooling head reads the encoder's states chunk by chunk (pool_in_chunks).
  torch::Tensor pooled(const torch::Tensor& ids, const torch::Tensor& lengths);

  // The encoder's layer groups, then the head: discriminative learning rates and gradual
  // unfreezing walk these from the top.
  std::vector<std::vector<torch::Tensor>> layer_groups();

  const std::shared_ptr<Encoder>& encoder() const { return encoder_; }
  PoolingHead& head() { return *head_; }

 private:
  std::shared_ptr<Encoder> encoder_;
  std::shared_ptr<PoolingHead> head_;
  std::int64_t chunk_, max_len_;
};

}  // namespace genolm::models
