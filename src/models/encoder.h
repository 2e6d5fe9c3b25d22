#pragma once
// The encoder interface every architecture implements: token ids [B, T] (int64) in, hidden states
// [B, T, D] out. Language-model and classifier heads sit on top; training code sees only this.

#include <torch/nn/module.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

namespace genolm::models {

// How an encoder computes in bf16 with fp32 master weights: the LSTM casts its weights explicitly
// (autocast leaves LSTMs in fp32); the transformer runs under autocast.
enum class Bf16Mode { explicit_cast, autocast };

class Encoder : public torch::nn::Module {
 public:
  // Raw hidden states of the last layer, [B, T, output_size()].
  virtual torch::Tensor forward(const torch::Tensor& ids) = 0;
  // Forgets carried state (stateful RNNs); a no-op for stateless encoders.
  virtual void reset() {}
  // Carried state, for checkpoints and for evaluation in the middle of training.
  virtual std::vector<torch::Tensor> state() const { return {}; }
  virtual void set_state(const std::vector<torch::Tensor>& /*state*/) {}

  // The input embedding matrix [vocab, emb]; language-model decoders are tied to it.
  virtual torch::Tensor embedding_weight() = 0;
  virtual std::int64_t output_size() const = 0;
  // Parameter groups from the input side up, for discriminative learning rates and gradual
  // unfreezing: the embedding first, then one group per layer.
  virtual std::vector<std::vector<torch::Tensor>> layer_groups() = 0;
  // Architecture and sizes, as written into model.json, enough to rebuild the encoder.
  virtual nlohmann::json describe() const = 0;
  // bf16 arithmetic with fp32 master weights. The LSTM casts explicitly (autocast leaves LSTMs in
  // fp32); the transformer runs under autocast and ignores this.
  virtual void set_bf16(bool enabled) { bf16_ = enabled; }
  // Which layer forward() returns, 1-based; 0 is the last (the default). Embeddings read inner
  // layers this way; an inner LSTM layer has hidden_size features, not output_size().
  void set_output_layer(std::int64_t layer) { output_layer_ = layer; }
  virtual std::int64_t layer_count() const = 0;

  // What training and inference ask of an architecture, so that no caller tests its name.
  // Whether hidden state crosses batch boundaries (truncated BPTT over a stream): a stateless
  // encoder is reset after every batch.
  virtual bool carries_state() const = 0;
  virtual Bf16Mode bf16_mode() const = 0;
  // Tokens read at a time: a fixed context, or `stateful_chunk` (the recipe's bptt, or an
  // inference chunk) for an encoder that carries state from chunk to chunk.
  virtual std::int64_t window(std::int64_t stateful_chunk) const = 0;
  // Dropout on the encoder's output, applied by the head on top (fastai's output_p).
  virtual double output_dropout() const = 0;

 protected:
  // How many layers forward() runs.
  std::int64_t layers_to_run() const {
    return output_layer_ > 0 && output_layer_ < layer_count() ? output_layer_ : layer_count();
  }
  bool bf16_ = false;
  std::int64_t output_layer_ = 0;
};

// Dropout with one mask per sequence, shared across time: x is [B, T, F], the mask [B, 1, F].
// The mask is drawn in fp32 whatever x's type, so bf16 and fp32 runs consume the same randomness.
torch::Tensor locked_dropout(const torch::Tensor& x, double p, bool training);

}  // namespace genolm::models
