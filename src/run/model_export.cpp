#include "run/model_export.h"

#include <fstream>

#include "genolm/atomic_file.h"
#include "genolm/error.h"
#include "genolm/remove_tree.h"
#include "genolm/tokenizers/specials.h"
#include "io/safetensors.h"
#include "run/model_card.h"
#include "run/run_layout.h"

namespace genolm::run {
namespace {

// The weights an export carries, and what they hold.
struct ExportedWeights {
  std::filesystem::path file;
  std::string holds;  // "classifier", "language_model" or "encoder"
};

ExportedWeights weights_to_export(const RunLayout& layout, const ModelCard& card) {
  const std::vector<ExportedWeights> candidates =
      card.fine_tuned()
          ? std::vector<ExportedWeights>{{layout.classifier_weights(), "classifier"}}
          : std::vector<ExportedWeights>{{layout.language_model_weights(), "language_model"},
                                         {layout.encoder_weights(), "encoder"}};
  for (const auto& candidate : candidates)
    if (std::filesystem::exists(candidate.file)) return candidate;
  auto old = candidates.front().file;
  old.replace_extension(".pt");
  if (std::filesystem::exists(old)) {
    throw Error(old.string() +
                ": weights in the TorchScript format of an earlier genolm; export reads "
                "safetensors (fine-tune or pretrain again with this version)");
  }
  throw Error(layout.dir().string() + " has no weights to export (expected " +
              candidates.front().file.filename().string() + ")");
}

nlohmann::json special_ids() {
  nlohmann::json ids;
  for (int id = 0; id < tokenizers::SpecialIds::count; ++id)
    ids[std::string(tokenizers::kSpecialKeys[static_cast<std::size_t>(id)])] = id;
  return ids;
}

nlohmann::json export_config(const ModelCard& card, const std::string& holds,
                             const std::filesystem::path& run) {
  nlohmann::json tokenizer = card.tokenizer;
  tokenizer["specials"] = special_ids();
  // A language model learned every piece of its corpus behind <bos> (genolm score conditions the
  // first token on it); a classifier's and embed's inputs are the sequence's tokens alone.
  tokenizer["bos_starts_piece"] = true;
  const std::string kind = tokenizer.value("kind", "");
  if (kind == "bpe" || kind == "unigram") tokenizer["model_file"] = "tokenizer/sentencepiece.model";
  return {{"format", kExportFormat},
          {"format_version", kExportFormatVersion},
          {"produced_by", std::string("genolm export ") + GENOLM_VERSION},
          {"source", std::filesystem::absolute(run).lexically_normal().string()},
          {"weights", kExportWeightsName},
          {"model", holds},
          {"direction", direction_name(card.direction)},
          {"encoder", card.encoder},
          {"tokenizer", tokenizer},
          {"task", card.task}};
}

void copy_folder(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::error_code error;
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive, error);
  if (error) {
    throw Error("cannot copy " + from.string() + " to " + to.string() + ": " + error.message());
  }
}

std::string read_whole(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(file.string() + ": cannot read");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

bool is_export(const std::filesystem::path& dir) {
  const auto file = dir / kExportConfigName;
  if (!std::filesystem::exists(file)) return false;
  const auto config = nlohmann::json::parse(read_whole(file), nullptr, /*allow_exceptions=*/false);
  return config.is_object() && config.value("format", "") == kExportFormat;
}

std::filesystem::path weights_in(const std::filesystem::path& dir,
                                 const std::filesystem::path& usual) {
  return is_export(dir) ? dir / kExportWeightsName : usual;
}

nlohmann::json export_model(const ExportOptions& options) {
  const RunLayout layout(options.run);
  if (!std::filesystem::exists(layout.model_card())) {
    throw Error(options.run.string() + " is not a run folder (expected model.json there)");
  }
  const ModelCard card = read_model_card(layout.model_card());
  const auto weights = weights_to_export(layout, card);
  // A damaged file fails here, naming itself, not in a user's Python session.
  std::string bytes = read_whole(weights.file);
  io::SafetensorsFile::parse(bytes, weights.file.string(), /*require_checksum=*/true);

  if (std::filesystem::exists(options.out)) {
    if (!options.overwrite) {
      throw Error(options.out.string() + " already exists (choose another --out, or --overwrite)");
    }
  }
  auto staging = options.out;
  staging += ".partial";
  remove_tree(staging);
  try {
    std::filesystem::create_directories(staging);
    const auto config = export_config(card, weights.holds, options.run);
    write_file_atomically(staging / kExportWeightsName, bytes);
    write_file_atomically(staging / kExportConfigName, config.dump(2) + "\n");
    write_file_atomically(staging / "model.json", read_whole(layout.model_card()));
    copy_folder(layout.tokenizer(), staging / "tokenizer");
    sync_folder(staging);
    if (std::filesystem::exists(options.out)) remove_tree(options.out);
    std::filesystem::rename(staging, options.out);
    sync_folder(options.out.has_parent_path() ? options.out.parent_path() : ".");
    return config;
  } catch (...) {
    std::error_code ignored;
    remove_tree(staging, ignored);
    throw;
  }
}

}  // namespace genolm::run
