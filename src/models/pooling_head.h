#pragma once
// The classifier head: it reads the encoder's states of the real (unpadded) tokens of each
// sequence, reduces them to one feature vector, then passes it through blocks of batch-norm,
// dropout and linear layers (ReLU between them). Classification reads its outputs as logits;
// regression as values, optionally squashed into an output range by a scaled sigmoid (fastai's
// y_range).
//
// Two ways to reduce the states:
//   concat     fastai's pooling: the last real token's state, the masked max and the masked mean,
//              concatenated ([B, 3D]). Position is thrown away, so it suits inputs of any length.
//   positions  every position's state, side by side ([B, P*F]): the head sees where a pattern
//              is. Splice junctions sit at fixed offsets and promoter boxes at fixed distances
//              from the start site; on splice junctions the positional head scored 0.960 test
//              accuracy where pooling scored 0.759 (bench/RESULTS.md). P is fixed when the head is
//              made (the longest training sequence); shorter sequences leave zeros in their padded
//              positions, longer ones are an error. Each state is first projected to F features
//              (a linear layer shared by every position) so that the head stays small.

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include <optional>
#include <string>
#include <utility>

namespace genolm::models {

// states [B, T, D] and lengths [B] (int64, each at least 1) -> [B, 3D]: last, max, mean. Padded
// positions (at and after a row's length) never influence the result.
torch::Tensor masked_concat_pool(const torch::Tensor& states, const torch::Tensor& lengths);

// One of the three poolings alone, or all of them ("concat"), for embeddings.
enum class Pooling { last, max, mean, concat };
torch::Tensor masked_pool(const torch::Tensor& states, const torch::Tensor& lengths, Pooling how);

enum class HeadPooling { concat, positions };
HeadPooling head_pooling_from_name(const std::string& name);  // throws genolm::Error
std::string head_pooling_name(HeadPooling pooling);

struct PoolingHeadOptions {
  std::int64_t input_size = 0;  // the encoder's D
  HeadPooling pooling = HeadPooling::concat;
  std::int64_t positions = 0;          // P (positions)
  std::int64_t position_features = 0;  // F (positions); 0: D, no projection
  std::int64_t hidden_size = 50;       // fastai's lin_ftrs = [50]
  std::int64_t hidden_layers = 1;
  std::int64_t outputs = 2;
  double first_dropout = 0.4;  // the encoder's output dropout (fastai's output_p)
  double dropout = 0.1;        // every later block
  std::optional<std::pair<double, double>> output_range;

  std::int64_t feature_size() const;  // what features() returns per row
};

class PoolingHead final : public torch::nn::Module {
 public:
  explicit PoolingHead(const PoolingHeadOptions& options);
  // states [B, T, D] (fp32), lengths [B] -> [B, feature_size()]. Throws genolm::Error when a
  // positional head is given more than P tokens.
  torch::Tensor features(const torch::Tensor& states, const torch::Tensor& lengths);
  // features [B, feature_size()] -> [B, outputs]
  torch::Tensor forward(const torch::Tensor& features);
  const PoolingHeadOptions& options() const { return options_; }

 private:
  PoolingHeadOptions options_;
  torch::nn::Linear projection_{nullptr};  // positions with F != 0
  torch::nn::Sequential layers_{nullptr};
};

}  // namespace genolm::models
