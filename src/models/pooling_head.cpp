#include "models/pooling_head.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include <limits>

#include "genolm/error.h"

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

HeadPooling head_pooling_from_name(const std::string& name) {
  if (name == "concat") return HeadPooling::concat;
  if (name == "positions") return HeadPooling::positions;
  throw Error("unknown head pooling '" + name + "' (expected concat or positions)");
}

std::string head_pooling_name(HeadPooling pooling) {
  return pooling == HeadPooling::concat ? "concat" : "positions";
}

std::int64_t PoolingHeadOptions::feature_size() const {
  if (pooling == HeadPooling::concat) return 3 * input_size;
  return positions * (position_features > 0 ? position_features : input_size);
}

PoolingHead::PoolingHead(const PoolingHeadOptions& options) : options_(options) {
  if (options.pooling == HeadPooling::positions && options.positions < 1) {
    throw Error("a positional head needs at least one position (got " +
                std::to_string(options.positions) + ")");
  }
  if (options.pooling == HeadPooling::positions && options.position_features > 0) {
    projection_ = register_module("projection",
                                  torch::nn::Linear(options.input_size, options.position_features));
  }
  layers_ = register_module("layers", torch::nn::Sequential());
  std::int64_t in = options.feature_size();
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

torch::Tensor PoolingHead::features(const torch::Tensor& states, const torch::Tensor& lengths) {
  if (options_.pooling == HeadPooling::concat) return masked_concat_pool(states, lengths);
  const std::int64_t steps = states.size(1);
  const std::int64_t limit = options_.positions;
  if (steps > limit && (lengths > limit).any().item<bool>()) {
    throw Error("a sequence of " + std::to_string(lengths.max().item<std::int64_t>()) +
                " tokens is longer than the " + std::to_string(limit) +
                " positions this positional head (head.pooling = \"positions\") was made for: "
                "the longest training sequence");
  }
  auto kept = projection_ ? projection_->forward(states.slice(1, 0, std::min(steps, limit)))
                          : states.slice(1, 0, std::min(steps, limit));
  // Padded positions hold zeros whatever the encoder computed there.
  const auto real =
      (torch::arange(kept.size(1), lengths.options()).unsqueeze(0) < lengths.unsqueeze(1))
          .unsqueeze(2);
  kept = kept * real.to(kept.scalar_type());
  if (kept.size(1) < limit) {
    kept = torch::constant_pad_nd(kept, {0, 0, 0, limit - kept.size(1)});
  }
  return kept.reshape({kept.size(0), -1});
}

torch::Tensor PoolingHead::forward(const torch::Tensor& features) {
  auto out = layers_->forward(features);
  if (options_.output_range) {
    const auto [low, high] = *options_.output_range;
    out = torch::sigmoid(out) * (high - low) + low;
  }
  return out;
}

}  // namespace genolm::models
