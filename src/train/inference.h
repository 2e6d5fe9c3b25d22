#pragma once
// Running a fine-tuned model over examples: batched by length, in inference mode, predictions put
// back in input order, optionally averaged over both DNA strands; then the task's metrics and
// the predictions file. Training's evaluation, `predict` and `evaluate` all go through here, so
// they cannot disagree.

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "data/task_data.h"
#include "models/sequence_classifier.h"

namespace genolm::train {

// Regression targets are learned standardised; predictions are mapped back with these. Empty
// vectors: values are used as they are.
struct TargetScaling {
  std::vector<double> mean, deviation;
  bool active() const { return !mean.empty(); }
};

struct InferenceOptions {
  std::int64_t batch_size = 64;
  bool autocast = false;    // bf16 autocast (the transformer in bf16)
  bool rc_average = false;  // average with the other strand (examples need rc_tokens)
};

// Classification: probabilities [examples x classes]; regression: values in the targets' own
// units [examples x targets]; row-major, in the examples' order.
struct Predictions {
  std::vector<double> values;
  std::size_t width = 0;
};

// A padded batch as the tensors models read, on `device`: ids [rows, steps] and lengths [rows],
// int64. On the CPU they view `batch`'s memory, which must outlive them.
struct BatchTensors {
  torch::Tensor ids, lengths;
};
BatchTensors batch_tensors(data::PaddedBatch& batch, const torch::Device& device);

// Runs `per_batch` over `tokens` in batches of similar length (longest first), the batches on
// `device`, and returns its rows [sequences x columns] on the CPU in the sequences' own order.
torch::Tensor map_in_length_batches(
    const std::vector<std::vector<std::int32_t>>& tokens, std::int64_t batch_size,
    const torch::Device& device,
    const std::function<torch::Tensor(const BatchTensors&)>& per_batch);

Predictions predict(models::SequenceClassifier& model, const data::TaskExamples& examples,
                    const data::LabelScheme& scheme, const TargetScaling& scaling,
                    const InferenceOptions& options);

// The task's metrics for `predictions` of labelled `examples`, with "loss" (negative
// log-likelihood, or the mean squared error of standardised targets). Regression reports the mean
// of each metric over targets and, under "targets", each target's own.
nlohmann::json task_metrics(const data::LabelScheme& scheme, const Predictions& predictions,
                            const data::TaskExamples& examples, const TargetScaling& scaling);

// A metric's value from task_metrics' JSON (NaN when absent or null), and whether it is better
// when higher.
double metric_value(const nlohmann::json& metrics, const std::string& name);
bool higher_is_better(const std::string& metric);

// Writes a TSV: classification `id, [label,] predicted, prob_<class>...`; regression
// `id, [<target>,] <target>_pred...` (true values when `examples` carry labels). Atomic.
void write_predictions(const std::filesystem::path& file, const data::LabelScheme& scheme,
                       const data::TaskExamples& examples, const Predictions& predictions);

}  // namespace genolm::train
