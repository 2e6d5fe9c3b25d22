#include "models/model_factory.h"

#include "genolm/error.h"
#include "models/architecture.h"

namespace genolm::models {

nlohmann::json encoder_description(const config::Recipe& recipe, std::int64_t vocab_size) {
  return architecture(recipe.string("model.arch")).describe(recipe, vocab_size);
}

std::shared_ptr<Encoder> make_encoder(const nlohmann::json& description) {
  return architecture_of(description).build(description);
}

std::shared_ptr<LanguageModel> make_language_model(std::shared_ptr<Encoder> encoder,
                                                   const nlohmann::json& description,
                                                   double ar_alpha, double tar_beta) {
  const auto options = architecture_of(description).language_model(description, ar_alpha, tar_beta);
  return std::make_shared<LanguageModel>(std::move(encoder), options);
}

nlohmann::json classifier_encoder_description(nlohmann::json description, double drop_mult) {
  const auto& entry = architecture_of(description);
  return entry.with_classifier_dropouts(std::move(description), drop_mult);
}

nlohmann::json head_description(const config::Recipe& recipe, TrainLengths lengths) {
  const auto& range = recipe.numbers("task.output_range");
  if (!range.empty() && (range.size() != 2 || !(range[0] < range[1]))) {
    throw Error("task.output_range must be [low, high] with low < high");
  }
  std::string pooling = recipe.string("head.pooling");
  if (pooling == "auto") {
    const bool aligned = lengths.shortest == lengths.longest && lengths.longest > 0 &&
                         lengths.longest <= kMaxAutoPositions;
    pooling = aligned ? "positions" : "concat";
  }
  const bool positional = pooling == "positions";
  return {{"pooling", pooling},
          {"positions", positional ? static_cast<std::int64_t>(lengths.longest) : 0},
          {"position_features", positional ? recipe.integer("head.position_features") : 0},
          {"hidden_size", recipe.integer("head.hidden_size")},
          {"hidden_layers", recipe.integer("head.hidden_layers")},
          {"dropout", recipe.number("head.dropout")},
          {"output_range", range.empty() ? nlohmann::json(nullptr) : nlohmann::json(range)}};
}

std::shared_ptr<SequenceClassifier> make_classifier(std::shared_ptr<Encoder> encoder,
                                                    const nlohmann::json& task) {
  try {
    const auto& head = task.at("head");
    PoolingHeadOptions options;
    options.input_size = encoder->output_size();
    options.pooling = head_pooling_from_name(head.value("pooling", std::string("concat")));
    // Every size is range-checked before it sizes a layer (model.json may be damaged).
    options.positions =
        head.contains("positions") ? description_size(head, "positions", 0, 1 << 20) : 0;
    options.position_features = head.contains("position_features")
                                    ? description_size(head, "position_features", 0, kMaxWidth)
                                    : 0;
    if (options.pooling == HeadPooling::positions &&
        (options.positions == 0 || options.position_features == 0)) {
      throw Error("the head pools by position but gives no \"positions\" or \"position_features\"");
    }
    options.hidden_size = description_size(head, "hidden_size", 0, kMaxWidth);
    options.hidden_layers = description_size(head, "hidden_layers", 0, kMaxLayers);
    options.outputs = description_size(task, "outputs", 1, 1 << 20);
    options.dropout = description_probability(head, "dropout");
    options.first_dropout = encoder->output_dropout();
    if (const auto range = head.find("output_range"); range != head.end() && !range->is_null()) {
      options.output_range = std::make_pair(range->at(0).get<double>(), range->at(1).get<double>());
    }
    return std::make_shared<SequenceClassifier>(std::move(encoder), options,
                                                description_size(task, "chunk", 1, 1 << 20),
                                                description_size(task, "max_len", 0, 1 << 30));
  } catch (const nlohmann::json::exception& e) {
    throw Error("the task description is malformed (" + std::string(e.what()) +
                "): " + task.dump());
  }
}

}  // namespace genolm::models
