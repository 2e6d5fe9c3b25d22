#include "models/sequence_classifier.h"

#include <torch/torch.h>

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

SequenceClassifier::SequenceClassifier(std::shared_ptr<Encoder> encoder,
                                       const PoolingHeadOptions& head, std::int64_t chunk,
                                       std::int64_t max_len)
    : encoder_(register_module("encoder", std::move(encoder))),
      head_(register_module("head", std::make_shared<PoolingHead>(head))),
      chunk_(chunk),
      max_len_(max_len) {}

torch::Tensor SequenceClassifier::pooled(const torch::Tensor& ids, const torch::Tensor& lengths) {
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
