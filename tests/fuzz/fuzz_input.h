#pragma once
// What the harnesses share: the fuzzer's bytes as a file (the parsers read paths, as genolm does),
// in a scratch folder of this process's own.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

namespace genolm::fuzz {

// A folder under /tmp for this process, created once and reused by every input.
const std::filesystem::path& scratch_folder();

// Writes `bytes` to scratch_folder() / name and returns the path.
std::filesystem::path write_input(std::string_view name, std::string_view bytes);

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace genolm::fuzz
