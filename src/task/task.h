#pragma once
// A fine-tuning task kind as a type. Each kind owns what differs between kinds: its loss, how raw
// outputs become predictions, its metrics and the metric that picks the best epoch, the columns
// of its prediction file, its part of model.json, and the metrics its report shows. Kinds are
// registered in one table (task_registry.cpp): adding one (variant effect, say) is a new type plus
// a line there.

#include <torch/types.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "config/recipe.h"
#include "data/task_data.h"
#include "io/labelled.h"

namespace genolm::task {

// Classification: probabilities [examples x classes]; regression: values in the targets' own
// units [examples x targets]; multilabel: probabilities [examples x labels]; row-major, in the
// examples' order.
struct Predictions {
  std::vector<double> values;
  std::size_t width = 0;
};

class Task {
 public:
  virtual ~Task() = default;

  // The name model.json and run.json record ("classification", "regression", "multilabel").
  virtual std::string_view kind() const = 0;
  // How labels are read and encoded.
  const data::LabelScheme& scheme() const { return scheme_; }
  std::int64_t outputs() const { return static_cast<std::int64_t>(scheme_.outputs()); }

  // Learns what the kind needs from the training split before training (class weights, target
  // standardisation). Idempotent for the same split.
  virtual void fit(const data::TaskExamples& /*train*/) {}

  // The training loss of `outputs` [B, outputs] (fp32, on the model's device) against the labels
  // of `examples` at `indices`.
  virtual torch::Tensor loss(const torch::Tensor& outputs, const data::TaskExamples& examples,
                             const std::vector<std::size_t>& indices) const = 0;
  // Raw model outputs [B, outputs] -> what strand averaging averages (classification averages
  // probabilities, not logits: each strand's vote counts as a belief).
  virtual torch::Tensor finish(const torch::Tensor& raw) const = 0;
  // Averaged outputs [examples x outputs] (fp64, CPU) -> predictions in the user's units.
  virtual Predictions to_predictions(const torch::Tensor& averaged) const;

  // The metrics of `predictions` for labelled `examples`, with "loss".
  virtual nlohmann::json metrics(const Predictions& predictions,
                                 const data::TaskExamples& examples) const = 0;
  // The metric that picks the best epoch when task.metric is "auto".
  virtual std::string default_metric() const = 0;
  // The metrics log lines show, in order.
  virtual std::vector<std::string> headline_metrics() const = 0;
  // The metric columns of the report's epoch table (run.json's task "report_metrics").
  virtual std::vector<std::string> report_metrics() const = 0;

  // The prediction file's TSV text: id, then the kind's columns (with the truth when the examples
  // carry labels).
  virtual std::string prediction_table(const data::TaskExamples& examples,
                                       const Predictions& predictions) const = 0;

  // The kind's part of model.json's "task": kind, classes or targets, scaling.
  virtual nlohmann::json describe() const = 0;
  // Strata for a stratified split: class indices, or one stratum.
  virtual std::vector<std::int64_t> strata(const data::TaskExamples& examples) const = 0;

 protected:
  explicit Task(data::LabelScheme scheme) : scheme_(std::move(scheme)) {}
  data::LabelScheme scheme_;
};

// A task's entry in the registration table.
struct TaskKind {
  std::string_view name;  // task.kind
  // A new task from the recipe's [task] keys and the training file's records (classes may be
  // found there). Errors name `train_file`.
  std::unique_ptr<Task> (*from_recipe)(const config::Recipe& recipe,
                                       const std::vector<io::LabelledExample>& train_records,
                                       const std::filesystem::path& train_file);
  // The task a fine-tuned model recorded in model.json's "task".
  std::unique_ptr<Task> (*from_description)(const nlohmann::json& task);
};

const std::vector<TaskKind>& task_kinds();
// The entry for `name`; throws genolm::Error naming the known kinds otherwise.
const TaskKind& task_kind(std::string_view name);

// A metric's value from metrics JSON (NaN when absent or null), and whether it is better when
// higher.
double metric_value(const nlohmann::json& metrics, const std::string& name);
bool higher_is_better(const std::string& metric);

// Writes the prediction table atomically.
void write_predictions(const std::filesystem::path& file, const Task& task,
                       const data::TaskExamples& examples, const Predictions& predictions);

}  // namespace genolm::task
