#include "models/transformer.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>

#include "genolm/error.h"
#include "genolm/tokenizers/tokenizer.h"
#include "models/architecture.h"
#include "models/attention.h"

namespace genolm::models {

Transformer::Transformer(const TransformerOptions& options) : options_(options) {
  if (options.d_model % options.heads != 0) {
    throw Error("model.emb_size " + std::to_string(options.d_model) +
                " must be a multiple of model.heads " + std::to_string(options.heads));
  }
  const std::int64_t head_dim = options.d_model / options.heads;
  if (options.positions == "rotary" && head_dim % 2 != 0) {
    throw Error("rotary positions need an even head size, got " + std::to_string(head_dim));
  }
  // GPT-2 style initialisation: normal(0, 0.02) weights, zero biases.
  embedding_ = register_parameter(
      "embedding", torch::empty({options.vocab_size, options.d_model}).normal_(0, 0.02));
  if (options.positions == "learned") {
    positions_ = register_parameter(
        "positions", torch::empty({options.context, options.d_model}).normal_(0, 0.02));
  } else if (options.positions == "rotary") {
    const auto inverse_frequency =
        torch::pow(10000.0, -torch::arange(0, head_dim, 2, torch::kFloat) / head_dim);
    const auto angles =
        torch::outer(torch::arange(options.context, torch::kFloat), inverse_frequency);
    rotary_cos_ = register_buffer("rotary_cos", torch::cat({angles.cos(), angles.cos()}, -1));
    rotary_sin_ = register_buffer("rotary_sin", torch::cat({angles.sin(), angles.sin()}, -1));
  } else {
    throw Error("model.positions '" + options.positions + "' is not rotary or learned");
  }
  auto linear = [](std::int64_t in, std::int64_t out, bool bias) {
    torch::nn::Linear layer(torch::nn::LinearOptions(in, out).bias(bias));
    torch::nn::init::normal_(layer->weight, 0, 0.02);
    if (bias) torch::nn::init::zeros_(layer->bias);
    return layer;
  };
  for (std::int64_t l = 0; l < options.layers; ++l) {
    const std::string prefix = "block" + std::to_string(l) + "_";
    Block block;
    block.attention_norm =
        register_module(prefix + "attention_norm",
                        torch::nn::LayerNorm(torch::nn::LayerNormOptions({options.d_model})));
    block.qkv =
        register_module(prefix + "qkv", linear(options.d_model, 3 * options.d_model, false));
    block.out = register_module(prefix + "out", linear(options.d_model, options.d_model, false));
    block.mlp_norm = register_module(
        prefix + "mlp_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({options.d_model})));
    block.up = register_module(prefix + "up", linear(options.d_model, options.ff_size, true));
    block.down = register_module(prefix + "down", linear(options.ff_size, options.d_model, true));
    blocks_.push_back(block);
  }
  final_norm_ = register_module(
      "final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({options.d_model})));
  dropout_ = register_module("dropout", torch::nn::Dropout(options.dropout));
}

torch::Tensor Transformer::rotate(const torch::Tensor& x) const {
  const std::int64_t steps = x.size(2);
  const std::int64_t half = x.size(3) / 2;
  const auto cos = rotary_cos_.slice(0, 0, steps).to(x.scalar_type());
  const auto sin = rotary_sin_.slice(0, 0, steps).to(x.scalar_type());
  // rotate_half: (x1, x2) -> (-x2, x1) over the two halves of each head.
  const auto rotated = torch::cat({-x.slice(3, half), x.slice(3, 0, half)}, -1);
  return x * cos + rotated * sin;
}

torch::Tensor Transformer::attention(Block& block, const torch::Tensor& x) {
  const std::int64_t batch = x.size(0), steps = x.size(1);
  const std::int64_t head_dim = options_.d_model / options_.heads;
  auto qkv = block.qkv->forward(x).view({batch, steps, 3, options_.heads, head_dim});
  qkv = qkv.permute({2, 0, 3, 1, 4});  // [3, B, H, T, D]
  auto q = qkv[0], k = qkv[1], v = qkv[2];
  if (options_.positions == "rotary") {
    q = rotate(q);
    k = rotate(k);
  }
  // No dropout on the attention weights: on the CPU it costs a mask over every [T, T] map of every
  // head; the residual dropouts regularise enough.
  auto y = causal_attention(q, k, v, 0.0);
  y = y.transpose(1, 2).reshape({batch, steps, options_.d_model});
  return block.out->forward(y);
}

torch::Tensor Transformer::block_forward(Block& block, const torch::Tensor& x) {
  auto h = x + dropout_->forward(attention(block, block.attention_norm->forward(x)));
  const auto mlp = block.down->forward(torch::gelu(block.up->forward(block.mlp_norm->forward(h))));
  return h + dropout_->forward(mlp);
}

torch::Tensor Transformer::forward(const torch::Tensor& ids) {
  const std::int64_t steps = ids.size(1);
  if (steps > options_.context) {
    throw Error("a sequence of " + std::to_string(steps) + " tokens is longer than model.context " +
                std::to_string(options_.context));
  }
  auto x = at::embedding(embedding_, ids);
  if (options_.positions == "learned") x = x + positions_.slice(0, 0, steps);
  x = dropout_->forward(x);
  const std::int64_t run = layers_to_run();
  for (std::int64_t l = 0; l < run; ++l)
    x = block_forward(blocks_[static_cast<std::size_t>(l)], x);
  // An inner layer's residual stream is read as it is; the final norm belongs to the last.
  return run == layer_count() ? final_norm_->forward(x) : x;
}

std::vector<std::vector<torch::Tensor>> Transformer::layer_groups() {
  std::vector<std::vector<torch::Tensor>> groups = {{embedding_}};
  if (positions_.defined()) groups[0].push_back(positions_);
  for (std::size_t l = 0; l < blocks_.size(); ++l) {
    std::vector<torch::Tensor> group;
    const std::string prefix = "block" + std::to_string(l) + "_";
    for (const auto& item : named_parameters()) {
      if (item.key().rfind(prefix, 0) == 0) group.push_back(item.value());
    }
    groups.push_back(group);
  }
  groups.back().push_back(final_norm_->weight);
  groups.back().push_back(final_norm_->bias);
  return groups;
}

nlohmann::json Transformer::describe() const {
  return {{"arch", "transformer"},           {"vocab_size", options_.vocab_size},
          {"emb_size", options_.d_model},    {"heads", options_.heads},
          {"hidden_size", options_.ff_size}, {"layers", options_.layers},
          {"context", options_.context},     {"dropout", options_.dropout},
          {"positions", options_.positions}};
}

const Architecture& transformer_architecture() {
  static const Architecture entry{
      .name = "transformer",
      .describe = [](const config::Recipe& recipe, std::int64_t vocab_size) -> nlohmann::json {
        return {{"arch", "transformer"},
                {"vocab_size", vocab_size},
                {"emb_size", recipe.integer("model.emb_size")},
                {"heads", recipe.integer("model.heads")},
                {"hidden_size", recipe.integer("model.hidden_size")},
                {"layers", recipe.integer("model.layers")},
                {"context", recipe.integer("model.context")},
                {"dropout", 0.1 * recipe.number("model.drop_mult")},
                {"positions", recipe.string("model.positions")}};
      },
      .build = [](const nlohmann::json& description) -> std::shared_ptr<Encoder> {
        TransformerOptions options;
        options.vocab_size =
            description_size(description, "vocab_size", 1, tokenizers::kMaxVocabularySize);
        options.d_model = description_size(description, "emb_size", 1, kMaxWidth);
        options.heads = description_size(description, "heads", 1, options.d_model);
        if (options.d_model % options.heads != 0) {
          throw Error("model description's \"emb_size\" " + std::to_string(options.d_model) +
                      " is not a multiple of its \"heads\" " + std::to_string(options.heads));
        }
        options.ff_size = description_size(description, "hidden_size", 1, kMaxWidth);
        options.layers = description_size(description, "layers", 1, kMaxLayers);
        options.context = description_size(description, "context", 1, std::int64_t{1} << 20);
        check_embedding_size(options.vocab_size, options.d_model);
        options.dropout = description_probability(description, "dropout");
        options.positions = description_field<std::string>(description, "positions");
        return std::make_shared<Transformer>(options);
      },
      .with_classifier_dropouts =
          [](nlohmann::json description, double drop_mult) {
            description["dropout"] = 0.1 * drop_mult;
            return description;
          },
      // Plain output dropout (none: the blocks drop out themselves); no AR/TAR.
      .language_model =
          [](const nlohmann::json& /*description*/, double /*ar_alpha*/, double /*tar_beta*/) {
            LanguageModelOptions options;
            options.locked_output_dropout = false;
            return options;
          }};
  return entry;
}

}  // namespace genolm::models
