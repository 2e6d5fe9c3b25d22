#include "models/awd_lstm.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>

#include <cmath>
#include <tuple>

#include "genolm/error.h"
#include "genolm/tokenizers/tokenizer.h"
#include "models/architecture.h"
#include "models/drop_connect.h"
#include "models/fused_lstm.h"

namespace genolm::models {
namespace {

// locked_dropout on a time-major sequence, with the same mask draws as on its batch-first view;
// the product keeps the input's time-major memory layout, so transposing back copies nothing.
torch::Tensor time_major_locked_dropout(const torch::Tensor& x, double p, bool training) {
  return locked_dropout(x.transpose(0, 1), p, training).transpose(0, 1);
}

}  // namespace

torch::Tensor locked_dropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0) return x;
  const auto mask = torch::empty({x.size(0), 1, x.size(2)}, x.options().dtype(torch::kFloat))
                        .bernoulli_(1 - p)
                        .div_(1 - p);
  return x * mask.to(x.scalar_type());
}

torch::Tensor embedding_dropout(const torch::Tensor& weight, double p, bool training) {
  if (!training || p <= 0) return weight;
  const auto mask = torch::empty({weight.size(0), 1}, weight.options().dtype(torch::kFloat))
                        .bernoulli_(1 - p)
                        .div_(1 - p);
  return weight * mask.to(weight.scalar_type());
}

AwdLstmOptions AwdLstmOptions::scaled(double drop_mult) const {
  AwdLstmOptions out = *this;
  out.embed_p *= drop_mult;
  out.input_p *= drop_mult;
  out.hidden_p *= drop_mult;
  out.weight_p *= drop_mult;
  out.output_p *= drop_mult;
  return out;
}

AwdLstm::AwdLstm(const AwdLstmOptions& options) : options_(options) {
  // fastai initialises the embedding uniformly in [-0.1, 0.1].
  embedding_ = register_parameter(
      "embedding", torch::empty({options.vocab_size, options.emb_size}).uniform_(-0.1, 0.1));
  for (std::int64_t l = 0; l < options.layers; ++l) {
    const std::int64_t in = l == 0 ? options.emb_size : options.hidden_size;
    const std::int64_t hidden = l == options.layers - 1 ? options.emb_size : options.hidden_size;
    // PyTorch's LSTM initialisation: uniform in +-1/sqrt(hidden).
    const double bound = 1.0 / std::sqrt(static_cast<double>(hidden));
    const std::string prefix = "lstm" + std::to_string(l) + "_";
    Layer layer;
    layer.hidden = hidden;
    layer.w_ih = register_parameter(prefix + "weight_ih",
                                    torch::empty({4 * hidden, in}).uniform_(-bound, bound));
    layer.w_hh_raw = register_parameter(prefix + "weight_hh_raw",
                                        torch::empty({4 * hidden, hidden}).uniform_(-bound, bound));
    layer.b_ih =
        register_parameter(prefix + "bias_ih", torch::empty({4 * hidden}).uniform_(-bound, bound));
    layer.b_hh =
        register_parameter(prefix + "bias_hh", torch::empty({4 * hidden}).uniform_(-bound, bound));
    layers_.push_back(layer);
  }
}

void AwdLstm::reset() {
  hidden_.clear();
}

std::vector<torch::Tensor> AwdLstm::state() const {
  return hidden_;
}

void AwdLstm::set_state(const std::vector<torch::Tensor>& state) {
  hidden_ = state;
}

torch::Tensor AwdLstm::forward(const torch::Tensor& ids) {
  const std::int64_t batch = ids.size(0);
  const bool training = is_training();
  if (hidden_.size() != 2 * layers_.size() || hidden_[0].size(1) != batch) {
    hidden_.clear();
    for (const auto& layer : layers_) {
      hidden_.push_back(torch::zeros({1, batch, layer.hidden}, embedding_.options()));
      hidden_.push_back(torch::zeros({1, batch, layer.hidden}, embedding_.options()));
    }
  }
  // Master weights stay in their own type (fp32, or fp64 in gradient checks); bf16 is for compute.
  const auto master = embedding_.scalar_type();
  const auto compute = bf16_ ? torch::kBFloat16 : master;

  // Time-major ([T, B, features]) inside, so the LSTM layers read and write their sequences
  // without transposing copies; the output is a [B, T, E] view.
  torch::Tensor x = at::embedding(embedding_dropout(embedding_, options_.embed_p, training),
                                  ids.t(), options_.pad_id);
  x = time_major_locked_dropout(x, options_.input_p, training).to(compute);

  const auto run = static_cast<std::size_t>(layers_to_run());
  for (std::size_t l = 0; l < run; ++l) {
    const Layer& layer = layers_[l];
    // DropConnect: a fresh mask on the raw recurrent weight at every forward; gradients reach the
    // raw weight and are zero where it was dropped.
    torch::Tensor w_hh = layer.w_hh_raw;
    if (training) w_hh = drop_connect(w_hh, options_.weight_p);
    torch::Tensor output, h, c;
    if (bf16_ || !x.is_cpu()) {
      // at::lstm is cuDNN's fused LSTM on a GPU and oneDNN's in bf16 on the CPU. In fp32 on the
      // CPU fused_lstm_layer beats it at every size (bench/RESULTS.md: at hidden 512, at::lstm
      // ran 0.99x the twin; at fastai's size, 0.76x).
      const std::vector<torch::Tensor> params = {layer.w_ih.to(compute), w_hh.to(compute),
                                                 layer.b_ih.to(compute), layer.b_hh.to(compute)};
      const std::vector<torch::Tensor> state = {hidden_[2 * l].to(compute),
                                                hidden_[2 * l + 1].to(compute)};
      std::tie(output, h, c) = at::lstm(x, state, params, /*has_biases=*/true, /*num_layers=*/1,
                                        /*dropout=*/0.0, training, /*bidirectional=*/false,
                                        /*batch_first=*/false);
    } else {
      std::tie(output, h, c) =
          fused_lstm_layer(x, hidden_[2 * l].squeeze(0), hidden_[2 * l + 1].squeeze(0), layer.w_ih,
                           w_hh, layer.b_ih, layer.b_hh);
      h = h.unsqueeze(0);
      c = c.unsqueeze(0);
    }
    hidden_[2 * l] = h.detach().to(master);
    hidden_[2 * l + 1] = c.detach().to(master);
    x = output;
    if (l + 1 < run) x = time_major_locked_dropout(x, options_.hidden_p, training);
  }
  return x.transpose(0, 1);
}

std::vector<std::vector<torch::Tensor>> AwdLstm::layer_groups() {
  std::vector<std::vector<torch::Tensor>> groups = {{embedding_}};
  for (const auto& layer : layers_) {
    groups.push_back({layer.w_ih, layer.w_hh_raw, layer.b_ih, layer.b_hh});
  }
  return groups;
}

namespace {

nlohmann::json describe_options(const AwdLstmOptions& options) {
  return {{"arch", "awd_lstm"},           {"vocab_size", options.vocab_size},
          {"emb_size", options.emb_size}, {"hidden_size", options.hidden_size},
          {"layers", options.layers},     {"pad_id", options.pad_id},
          {"embed_p", options.embed_p},   {"input_p", options.input_p},
          {"hidden_p", options.hidden_p}, {"weight_p", options.weight_p},
          {"output_p", options.output_p}};
}

}  // namespace

nlohmann::json AwdLstm::describe() const {
  return describe_options(options_);
}

const Architecture& awd_lstm_architecture() {
  static const Architecture entry{
      .name = "awd_lstm",
      .describe =
          [](const config::Recipe& recipe, std::int64_t vocab_size) {
            AwdLstmOptions options;
            options.vocab_size = vocab_size;
            options.emb_size = recipe.integer("model.emb_size");
            options.hidden_size = recipe.integer("model.hidden_size");
            options.layers = recipe.integer("model.layers");
            return describe_options(options.scaled(recipe.number("model.drop_mult")));
          },
      .build = [](const nlohmann::json& description) -> std::shared_ptr<Encoder> {
        AwdLstmOptions options;
        options.vocab_size =
            description_size(description, "vocab_size", 1, tokenizers::kMaxVocabularySize);
        options.emb_size = description_size(description, "emb_size", 1, kMaxWidth);
        options.hidden_size = description_size(description, "hidden_size", 1, kMaxWidth);
        options.layers = description_size(description, "layers", 1, kMaxLayers);
        check_embedding_size(options.vocab_size, options.emb_size);
        options.pad_id = description.contains("pad_id")
                             ? description_size(description, "pad_id", 0, options.vocab_size - 1)
                             : 0;
        options.embed_p = description_probability(description, "embed_p");
        options.input_p = description_probability(description, "input_p");
        options.hidden_p = description_probability(description, "hidden_p");
        options.weight_p = description_probability(description, "weight_p");
        options.output_p = description_probability(description, "output_p");
        return std::make_shared<AwdLstm>(options);
      },
      // fastai's AWD-LSTM classifier dropouts.
      .with_classifier_dropouts =
          [](nlohmann::json description, double drop_mult) {
            description["embed_p"] = 0.05 * drop_mult;
            description["input_p"] = 0.4 * drop_mult;
            description["weight_p"] = 0.5 * drop_mult;
            description["hidden_p"] = 0.3 * drop_mult;
            description["output_p"] = 0.4 * drop_mult;
            return description;
          },
      // Locked output dropout and fastai's RNNRegularizer (AR on the dropped output, TAR on the
      // raw one).
      .language_model =
          [](const nlohmann::json& description, double ar_alpha, double tar_beta) {
            LanguageModelOptions options;
            options.output_p = description_probability(description, "output_p");
            options.locked_output_dropout = true;
            options.ar_alpha = ar_alpha;
            options.tar_beta = tar_beta;
            return options;
          }};
  return entry;
}

}  // namespace genolm::models
