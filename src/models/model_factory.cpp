#include "models/model_factory.h"

#include "genolm/error.h"
#include "models/awd_lstm.h"
#include "models/transformer.h"

namespace genolm::models {
namespace {

template <typename T>
T field(const nlohmann::json& description, const char* key) {
  if (!description.contains(key)) {
    throw Error("model description lacks \"" + std::string(key) + "\": " + description.dump());
  }
  return description.at(key).get<T>();
}

}  // namespace

nlohmann::json encoder_description(const config::Recipe& recipe, std::int64_t vocab_size) {
  const std::string arch = recipe.string("model.arch");
  const double drop_mult = recipe.number("model.drop_mult");
  if (arch == "awd_lstm") {
    AwdLstmOptions options;
    options.vocab_size = vocab_size;
    options.emb_size = recipe.integer("model.emb_size");
    options.hidden_size = recipe.integer("model.hidden_size");
    options.layers = recipe.integer("model.layers");
    return AwdLstm(options.scaled(drop_mult)).describe();
  }
  return {{"arch", "transformer"},
          {"vocab_size", vocab_size},
          {"emb_size", recipe.integer("model.emb_size")},
          {"heads", recipe.integer("model.heads")},
          {"hidden_size", recipe.integer("model.hidden_size")},
          {"layers", recipe.integer("model.layers")},
          {"context", recipe.integer("model.context")},
          {"dropout", 0.1 * drop_mult},
          {"positions", recipe.string("model.positions")}};
}

std::shared_ptr<Encoder> make_encoder(const nlohmann::json& description) {
  const auto arch = field<std::string>(description, "arch");
  if (arch == "awd_lstm") {
    AwdLstmOptions options;
    options.vocab_size = field<std::int64_t>(description, "vocab_size");
    options.emb_size = field<std::int64_t>(description, "emb_size");
    options.hidden_size = field<std::int64_t>(description, "hidden_size");
    options.layers = field<std::int64_t>(description, "layers");
    options.pad_id = description.value("pad_id", std::int64_t{0});
    options.embed_p = field<double>(description, "embed_p");
    options.input_p = field<double>(description, "input_p");
    options.hidden_p = field<double>(description, "hidden_p");
    options.weight_p = field<double>(description, "weight_p");
    options.output_p = field<double>(description, "output_p");
    return std::make_shared<AwdLstm>(options);
  }
  if (arch == "transformer") {
    TransformerOptions options;
    options.vocab_size = field<std::int64_t>(description, "vocab_size");
    options.d_model = field<std::int64_t>(description, "emb_size");
    options.heads = field<std::int64_t>(description, "heads");
    options.ff_size = field<std::int64_t>(description, "hidden_size");
    options.layers = field<std::int64_t>(description, "layers");
    options.context = field<std::int64_t>(description, "context");
    options.dropout = field<double>(description, "dropout");
    options.positions = field<std::string>(description, "positions");
    return std::make_shared<Transformer>(options);
  }
  throw Error("unknown model architecture '" + arch + "' (expected awd_lstm or transformer)");
}

std::shared_ptr<LanguageModel> make_language_model(std::shared_ptr<Encoder> encoder,
                                                   const nlohmann::json& description,
                                                   double ar_alpha, double tar_beta) {
  LanguageModelOptions options;
  if (description.at("arch") == "awd_lstm") {
    options.output_p = description.at("output_p").get<double>();
    options.locked_output_dropout = true;
    options.ar_alpha = ar_alpha;
    options.tar_beta = tar_beta;
  } else {
    options.locked_output_dropout = false;
  }
  return std::make_shared<LanguageModel>(std::move(encoder), options);
}

nlohmann::json classifier_encoder_description(nlohmann::json description, double drop_mult) {
  if (field<std::string>(description, "arch") == "awd_lstm") {
    description["embed_p"] = 0.05 * drop_mult;
    description["input_p"] = 0.4 * drop_mult;
    description["weight_p"] = 0.5 * drop_mult;
    description["hidden_p"] = 0.3 * drop_mult;
    description["output_p"] = 0.4 * drop_mult;
  } else {
    description["dropout"] = 0.1 * drop_mult;
  }
  return description;
}

std::shared_ptr<SequenceClassifier> make_classifier(std::shared_ptr<Encoder> encoder,
                                                    const nlohmann::json& encoder_description,
                                                    const nlohmann::json& task) {
  const auto& head = task.at("head");
  PoolingHeadOptions options;
  options.input_size = encoder->output_size();
  options.hidden_size = head.at("hidden_size").get<std::int64_t>();
  options.hidden_layers = head.at("hidden_layers").get<std::int64_t>();
  options.outputs = task.at("outputs").get<std::int64_t>();
  options.dropout = head.at("dropout").get<double>();
  options.first_dropout = encoder_description.contains("output_p")
                              ? encoder_description.at("output_p").get<double>()
                              : encoder_description.value("dropout", 0.1);
  if (const auto range = head.find("output_range"); range != head.end() && !range->is_null()) {
    options.output_range = std::make_pair(range->at(0).get<double>(), range->at(1).get<double>());
  }
  return std::make_shared<SequenceClassifier>(std::move(encoder), options,
                                              task.at("chunk").get<std::int64_t>(),
                                              task.at("max_len").get<std::int64_t>());
}

}  // namespace genolm::models
