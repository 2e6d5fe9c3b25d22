#include "models/pooling_head.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include <limits>

namespace genolm::models {

torch::Tensor masked_pool(const torch::Tensor& states, const torch::Tensor& lengths, Pooling how) {
  const std::int64_t steps = states.size(1);
  const auto positions = torch::arange(steps, lengths.options()).unsqueeze(0);  // [1, T]
  const auto real = (positions < lengths.unsqueeze(1)).unsqueeze(2);            // [B, T, 1]
  const auto last = [&] {
    const auto index = (lengths - 1).view({-1, 1, 1}).expand({-1, 1, states.size(2)});
    return states.gather(1, index).squeeze(1);
  };
  const auto max = [&] {
    return states.masked_fill(real.logical_not(), -std::numeric_limits<float>::infinity()).amax(1);
  };
  const auto mean = [&] {
    const auto type = states.scalar_type();
    return (states * real.to(type)).sum(1) / lengths.unsqueeze(1).to(type);
  };
  switch (how) {
    case Pooling::last:
      return last();
    case Pooling::max:
      return max();
    case Pooling::mean:
      return mean();
    case Pooling::concat:
      break;
  }
  return torch::cat({last(), max(), mean()}, 1);
}

torch::Tensor masked_concat_pool(const torch::Tensor& states, const torch::Tensor& lengths) {
  return masked_pool(states, lengths, Pooling::concat);
}

PoolingHead::PoolingHead(const PoolingHeadOptions& options) : options_(options) {
  layers_ = register_module("layers", torch::nn::Sequential());
  std::int64_t in = 3 * options.input_size;
  for (std::int64_t block = 0; block <= options.hidden_layers; ++block) {
    const bool last = block == options.hidden_layers;
    const std::int64_t out = last ? options.outputs : options.hidden_size;
    layers_->push_back(torch::nn::BatchNorm1d(in));
    layers_->push_back(torch::nn::Dropout(block == 0 ? options.first_dropout : options.dropout));
    layers_->push_back(torch::nn::Linear(in, out));
    if (!last) layers_->push_back(torch::nn::ReLU());
    in = out;
  }
}

torch::Tensor PoolingHead::forward(const torch::Tensor& pooled) {
  auto out = layers_->forward(pooled);
  if (options_.output_range) {
    const auto [low, high] = *options_.output_range;
    out = torch::sigmoid(out) * (high - low) + low;
  }
  return out;
}

}  // namespace genolm::models
