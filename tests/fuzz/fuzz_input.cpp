#include "fuzz_input.h"

#include <unistd.h>

#include <fstream>
#include <string>

namespace genolm::fuzz {

const std::filesystem::path& scratch_folder() {
  static const std::filesystem::path folder = [] {
    auto path =
        std::filesystem::temp_directory_path() / ("genolm-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
    return path;
  }();
  return folder;
}

std::filesystem::path write_input(std::string_view name, std::string_view bytes) {
  const auto path = scratch_folder() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

}  // namespace genolm::fuzz
