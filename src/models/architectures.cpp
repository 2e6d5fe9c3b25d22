#include "models/architecture.h"

#include "genolm/error.h"
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

template std::string description_field<std::string>(const nlohmann::json&, const char*);
template std::int64_t description_field<std::int64_t>(const nlohmann::json&, const char*);
template double description_field<double>(const nlohmann::json&, const char*);

}  // namespace genolm::models
