#pragma once
// How the integration tests run the built genolm (GENOLM_BINARY, a compile definition of their
// binary): two threads, warnings only, stdout and stderr captured in `dir`'s out.txt and err.txt.

#include <filesystem>
#include <string>

#include "support/genolm_process.h"

namespace genolm::test {

inline std::string genolm_command(const std::string& words) {
  return std::string(GENOLM_BINARY) + " --threads 2 --log-level warn " + words;
}

inline int run_genolm(const std::filesystem::path& dir, const std::string& words) {
  return run_command(genolm_command(words), dir / "out.txt", dir / "err.txt");
}

}  // namespace genolm::test
