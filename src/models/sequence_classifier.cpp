#include "models/sequence_classifier.h"

#include <torch/torch.h>

#include <limits>

namespace genolm::models {

torch::Tensor encode_in_chunks(Encoder& encoder, const torch::Tensor& ids, std::int64_t chunk,
                               std::int64_t grad_tokens) {
  encoder.reset();
  const std::int64_t steps = ids.size(1);
  const std::int64_t no_grad_before = steps - grad_tokens;
  std::vector<torch::Tensor> outputs;
  for (std::int64_t start = 0; start < steps; start += chunk) {
    const std::int64_t end = std::min(steps, start + chunk);
    const auto piece = ids.slice(1, start, end);
    if (end <= no_grad_before) {
      torch::NoGradGuard no_grad;
      outputs.push_back(encoder.forward(piece).to(torch::kFloat));
    } else {
      outputs.push_back(encoder.forward(piece).to(torch::kFloat));
    }
  }
  encoder.reset();
  return outputs.size() == 1 ? outputs[0] : torch::cat(outputs, 1);
}

torch::Tensor pool_in_chunks(Encoder& encoder, const torch::Tensor& ids,
                             const torch::Tensor& lengths, std::int64_t chunk, Pooling how) {
  torch::NoGradGuard no_grad;
  encoder.reset();
  const std::int64_t steps = ids.size(1);
  const auto last_position = lengths - 1;
  // Only what `how` asks for is kept: embed's default, the mean, needs neither max nor last.
  const bool want_last = how == Pooling::last || how == Pooling::concat;
  const bool want_max = how == Pooling::max || how == Pooling::concat;
  const bool want_sum = how == Pooling::mean || how == Pooling::concat;
  torch::Tensor last, max, sum;
  for (std::int64_t start = 0; start < steps; start += chunk) {
    const std::int64_t end = std::min(steps, start + chunk);
    const auto states = encoder.forward(ids.slice(1, start, end)).to(torch::kFloat);  // [B, C, D]
    const auto positions = torch::arange(start, end, lengths.options()).unsqueeze(0);
    const auto real = (positions < lengths.unsqueeze(1)).unsqueeze(2);  // [B, C, 1]
    if (want_max) {
      const auto chunk_max =
          states.masked_fill(real.logical_not(), -std::numeric_limits<float>::infinity()).amax(1);
      max = max.defined() ? torch::maximum(max, chunk_max) : chunk_max;
    }
    if (want_sum) {
      const auto chunk_sum = (states * real.to(torch::kFloat)).sum(1);
      sum = sum.defined() ? sum + chunk_sum : chunk_sum;
    }
    if (want_last) {
      // Each row's last real state, where it falls in this chunk.
      const auto index = (last_position - start).clamp(0, end - start - 1);
      const auto at_index =
          states.gather(1, index.view({-1, 1, 1}).expand({-1, 1, states.size(2)})).squeeze(1);
      const auto ends_here = ((last_position >= start) & (last_position < end)).unsqueeze(1);
      last = torch::where(ends_here, at_index, last.defined() ? last : torch::zeros_like(at_index));
    }
  }
  encoder.reset();
  const auto mean = want_sum ? sum / lengths.unsqueeze(1).to(torch::kFloat) : sum;
  switch (how) {
    case Pooling::last:
      return last;
    case Pooling::max:
      return max;
    case Pooling::mean:
      return mean;
    case Pooling::concat:
      break;
  }
  return torch::cat({last, max, mean}, 1);
}

SequenceClassifier::SequenceClassifier(std::shared_ptr<Encoder> encoder,
                                       const PoolingHeadOptions& head, std::int64_t chunk,
                                       std::int64_t max_len)
    : encoder_(register_module("encoder", std::move(encoder))),
      head_(register_module("head", std::make_shared<PoolingHead>(head))),
      chunk_(chunk),
      max_len_(max_len) {}

torch::Tensor SequenceClassifier::pooled(const torch::Tensor& ids, const torch::Tensor& lengths) {
  if (!torch::GradMode::is_enabled() && head_->options().pooling == HeadPooling::concat)
    return pool_in_chunks(*encoder_, ids, lengths, chunk_, Pooling::concat);
  return head_->features(encode_in_chunks(*encoder_, ids, chunk_, max_len_), lengths);
}

torch::Tensor SequenceClassifier::forward(const torch::Tensor& ids, const torch::Tensor& lengths) {
  return head_->forward(pooled(ids, lengths));
}

std::vector<std::vector<torch::Tensor>> SequenceClassifier::layer_groups() {
  auto groups = encoder_->layer_groups();
  groups.push_back(head_->parameters());
  return groups;
}

}  // namespace genolm::models
