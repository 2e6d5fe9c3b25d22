#pragma once
// JSON files, written all or nothing (genolm/atomic_file.h) and read with errors that name them.

#include <filesystem>
#include <nlohmann/json.hpp>

#include "genolm/atomic_file.h"

namespace genolm {

// `json` indented by two, with a final newline, written atomically.
void write_json_atomically(const std::filesystem::path& file, const nlohmann::json& json);

// A JSON file; throws genolm::Error naming the file when it cannot be read or parsed.
nlohmann::json read_json_file(const std::filesystem::path& file);

}  // namespace genolm
