#include "util/files.h"

#include <fstream>

#include "genolm/error.h"

namespace genolm {

void write_json_atomically(const std::filesystem::path& file, const nlohmann::json& json) {
  write_file_atomically(file, json.dump(2) + "\n");
}

nlohmann::json read_json_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw Error("cannot read " + file.string());
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(file.string() + " is not valid JSON (" + e.what() + ")");
  }
}

}  // namespace genolm
