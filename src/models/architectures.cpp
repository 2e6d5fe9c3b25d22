#include "models/architecture.h"

#include "genolm/error.h"
#include "genolm/tokenizers/tokenizer.h"
#include "util/registry.h"

namespace genolm::models {

// Each entry is defined beside its encoder.
const Architecture& awd_lstm_architecture();
const Architecture& transformer_architecture();

const std::vector<Architecture>& architectures() {
  // The registration table: one line per architecture.
  static const std::vector<Architecture> table = {awd_lstm_architecture(),
                                                  transformer_architecture()};
  return table;
}

const Architecture& architecture(std::string_view name) {
  return find_registered(architectures(), name, "model architecture");
}

const Architecture& architecture_of(const nlohmann::json& description) {
  return architecture(description_field<std::string>(description, "arch"));
}

template <typename T>
T description_field(const nlohmann::json& description, const char* key) {
  if (!description.is_object() || !description.contains(key)) {
    throw Error("model description lacks \"" + std::string(key) + "\": " + description.dump());
  }
  try {
    return description.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error("model description's \"" + std::string(key) +
                "\" has the wrong type: " + description.dump());
  }
}

std::int64_t description_size(const nlohmann::json& description, const char* key, std::int64_t low,
                              std::int64_t high) {
  const auto value = description_field<std::int64_t>(description, key);
  if (value < low || value > high) {
    throw Error("model description's \"" + std::string(key) + "\" is " + std::to_string(value) +
                " (expected " + std::to_string(low) + " to " + std::to_string(high) + ")");
  }
  return value;
}

double description_probability(const nlohmann::json& description, const char* key) {
  const auto value = description_field<double>(description, key);
  if (!(value >= 0 && value < 1)) {
    throw Error("model description's \"" + std::string(key) + "\" is " + std::to_string(value) +
                " (expected a dropout probability from 0 to below 1)");
  }
  return value;
}

void check_embedding_size(std::int64_t vocab_size, std::int64_t width) {
  if (vocab_size * width > kMaxEmbeddingValues) {
    throw Error("model description's embedding of " + std::to_string(vocab_size) + " tokens x " +
                std::to_string(width) + " is larger than any genolm makes (" +
                std::to_string(kMaxEmbeddingValues) + " values)");
  }
}

template std::string description_field<std::string>(const nlohmann::json&, const char*);
template std::int64_t description_field<std::int64_t>(const nlohmann::json&, const char*);
template double description_field<double>(const nlohmann::json&, const char*);

}  // namespace genolm::models
