#pragma once
// Opens a report page in headless Chromium, as tests/reports/check_page.sh does for a reader: 0
// when the page renders, runs without a script error and its visible text holds every one of
// `texts` (the key numbers). For the integration tests, which know GENOLM_SOURCE_DIR.

#include <filesystem>
#include <string>
#include <vector>

#include "support/genolm_process.h"

namespace genolm::test {

inline int check_page_in_chromium(const std::filesystem::path& page,
                                  const std::vector<std::string>& texts,
                                  const std::filesystem::path& out,
                                  const std::filesystem::path& err) {
  const auto quoted = [](const std::string& word) {
    std::string text = "'";
    for (const char c : word)
      text += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return text + "'";
  };
  std::string command = quoted(std::string(GENOLM_SOURCE_DIR) + "/tests/reports/check_page.sh") +
                        " " + quoted(page.string());
  for (const auto& text : texts)
    command += " " + quoted(text);
  return run_command(command, out, err);
}

}  // namespace genolm::test
