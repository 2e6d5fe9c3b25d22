#pragma once
// What `genolm lr-find` writes into its folder: lr_find.html (the smoothed loss against the rate,
// the picks of the three rules marked; opens offline, no script), lr_find.json (the options, the
// suggestions and the curve) and lr_find.tsv (the curve: step, lr, loss, smoothed_loss).

#include <filesystem>
#include <optional>
#include <string>

#include "train/lr_finder.h"

namespace genolm::report {

inline constexpr const char* kLrFindPage = "lr_find.html";
inline constexpr const char* kLrFindJson = "lr_find.json";
inline constexpr const char* kLrFindTable = "lr_find.tsv";

struct LrFindReport {
  std::string name;         // the recipe's run name
  std::string command;      // "pretrain" or "finetune": the recipe's kind
  std::string recipe_file;  // empty when none
  std::string rate_key;     // the recipe key the suggestion is for ("train.lr", ...)
  train::LrFindOptions options;
  train::LrCurve curve;
  std::optional<train::LrSuggestions> suggestions;  // none when the curve is too short
};

// Writes the three files into `dir` (created when missing), each atomically. Throws genolm::Error
// naming a file that cannot be written.
void write_lr_find_report(const std::filesystem::path& dir, const LrFindReport& report);

}  // namespace genolm::report
