#pragma once
// Writing a file so that readers see the old contents or the new, never half of either: write a
// temporary file beside it, then rename (atomic within a file system).

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string_view>

namespace genolm {

// Throws genolm::Error naming the file when it cannot be written.
void write_file_atomically(const std::filesystem::path& file, std::string_view contents);

// `json` indented by two, with a final newline, written atomically.
void write_json_atomically(const std::filesystem::path& file, const nlohmann::json& json);

// A JSON file; throws genolm::Error naming the file when it cannot be read or parsed.
nlohmann::json read_json_file(const std::filesystem::path& file);

}  // namespace genolm
