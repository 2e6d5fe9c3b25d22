#pragma once
// `genolm export`: a run's model as a folder any PyTorch user can load without genolm
// (python/genolm_export.py). The folder holds
//   model.safetensors  the weights, under genolm's module names (a fine-tuned run: encoder and
//                      head; a pretraining run: the whole language model)
//   config.json        everything else a loader needs: the architecture, the tokenizer with its
//                      vocabulary and special ids, whether <bos> starts a language model's input,
//                      the reading direction, the task
//   model.json, tokenizer/  genolm's own card and tokenizer, so an export is also a folder genolm
//                      starts a run from (encoder.from, init.from) or predicts with.
// The folder appears whole or not at all: it is written beside its target and renamed.

#include <filesystem>

#include <nlohmann/json.hpp>

namespace genolm::run {

inline constexpr std::string_view kExportFormat = "genolm-export";
inline constexpr int kExportFormatVersion = 1;
inline constexpr std::string_view kExportWeightsName = "model.safetensors";
inline constexpr std::string_view kExportConfigName = "config.json";

struct ExportOptions {
  std::filesystem::path run;
  std::filesystem::path out;
  bool overwrite = false;
};

// Writes the export; returns its config.json. Throws genolm::Error when the run has no model
// card or weights, the weights are damaged (their checksum) or of an earlier format, or `out`
// exists without `overwrite`.
nlohmann::json export_model(const ExportOptions& options);

// Whether `dir` is an export (its config.json says so).
bool is_export(const std::filesystem::path& dir);

// The file that holds a folder's weights: `usual` (classifier.safetensors, ...) in a run folder,
// model.safetensors in an export, which keeps one weight file whatever it holds.
std::filesystem::path weights_in(const std::filesystem::path& dir,
                                 const std::filesystem::path& usual);

}  // namespace genolm::run
