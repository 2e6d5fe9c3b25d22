#pragma once
// The one place that names the files of a run folder. Every reader and writer of a run folder
// asks this type for a path; no other file spells these names.
//
//   config.toml          the resolved recipe the run started with (resume checks against it)
//   run.json             status, sizes, timings: what the report and a person read
//   inputs.json          the SHA-256 of the task files a resume reads again (run/input_digests.h)
//   model.json           the model card: what rebuilds the model (run/model_card.h)
//   tokenizer/           the tokenizer folder
//   encoder.safetensors  the encoder's weights (pretraining; fine-tuning reads it)
//   language_model.safetensors  the whole language model, encoder and decoder (pretraining)
//   classifier.safetensors      the fine-tuned model, encoder and head (fine-tuning)
//   checkpoints/         step-N.safetensors for rank 0, rank-R/step-N.safetensors for the others
// Folders of earlier versions hold the same weights and checkpoints as .pt TorchScript archives;
// readers find those through existing_weights and load them with a warning.
//   corpus/              the token corpus pretraining built from data.train (when not prebuilt)
//   metrics.jsonl        one JSON row per logged step, evaluation and test
//   train.log            every log line of every session
//   report.html          the run report
//   test_predictions.tsv fine-tuning's predictions on the test split
//
// A cross-validation's folder (task.cv_folds) holds one fine-tuning run folder per fold and what
// sums them up:
//   fold_1/ ... fold_K/  each fold's run (the fold's rows are its test split)
//   cv.json, cv.tsv      every fold's test metrics, their mean and standard deviation
//   cv_predictions.tsv   every fold's test predictions (out of fold), with a fold column
//   report.html          the folds side by side, linked to their own reports

#include <filesystem>
#include <optional>
#include <string>

namespace genolm::run {

// Weights as a reader finds them: `weights` (one of RunLayout's) when it exists, else the .pt
// archive an earlier version wrote in its place when that exists, else nothing.
inline std::optional<std::filesystem::path> existing_weights(const std::filesystem::path& weights) {
  if (std::filesystem::exists(weights)) return weights;
  auto old = weights;
  old.replace_extension(".pt");
  if (std::filesystem::exists(old)) return old;
  return std::nullopt;
}

class RunLayout {
 public:
  explicit RunLayout(std::filesystem::path dir) : dir_(std::move(dir)) {}

  const std::filesystem::path& dir() const { return dir_; }
  std::string name() const { return dir_.filename().string(); }

  std::filesystem::path config() const { return dir_ / "config.toml"; }
  std::filesystem::path run_json() const { return dir_ / "run.json"; }
  std::filesystem::path inputs() const { return dir_ / "inputs.json"; }
  std::filesystem::path model_card() const { return dir_ / "model.json"; }
  std::filesystem::path tokenizer() const { return dir_ / "tokenizer"; }
  std::filesystem::path encoder_weights() const { return dir_ / "encoder.safetensors"; }
  std::filesystem::path language_model_weights() const {
    return dir_ / "language_model.safetensors";
  }
  std::filesystem::path classifier_weights() const { return dir_ / "classifier.safetensors"; }
  std::filesystem::path checkpoints() const { return dir_ / "checkpoints"; }
  // Rank 0 checkpoints into the run's own folder, the others beside it.
  std::filesystem::path rank_checkpoints(int rank) const {
    return rank == 0 ? checkpoints() : checkpoints() / ("rank-" + std::to_string(rank));
  }
  std::filesystem::path corpus() const { return dir_ / "corpus"; }
  std::filesystem::path metrics() const { return dir_ / "metrics.jsonl"; }
  std::filesystem::path log() const { return dir_ / "train.log"; }
  std::filesystem::path report() const { return dir_ / "report.html"; }
  std::filesystem::path test_predictions() const { return dir_ / "test_predictions.tsv"; }

  // Cross-validation: fold `fold` (1-based) is a run folder of its own.
  RunLayout cv_fold(std::size_t fold) const {
    return RunLayout(dir_ / ("fold_" + std::to_string(fold)));
  }
  std::filesystem::path cv_summary() const { return dir_ / "cv.json"; }
  std::filesystem::path cv_table() const { return dir_ / "cv.tsv"; }
  std::filesystem::path cv_predictions() const { return dir_ / "cv_predictions.tsv"; }

 private:
  std::filesystem::path dir_;
};

}  // namespace genolm::run
