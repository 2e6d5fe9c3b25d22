#pragma once
// Running a fine-tuned model over examples: batched by length, in inference mode, predictions put
// back in input order, optionally averaged over both DNA strands, turned into the task's
// predictions. Training's evaluation, `predict` and `evaluate` all go through here, so they cannot
// disagree.

#include <functional>
#include <vector>

#include "data/task_data.h"
#include "models/sequence_classifier.h"
#include "task/task.h"

namespace genolm::train {

struct InferenceOptions {
  std::int64_t batch_size = 64;
  bool autocast = false;    // bf16 autocast (the transformer in bf16)
  bool rc_average = false;  // average with the other strand (examples need rc_tokens)
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

// The task's predictions for `examples` (in their order), averaged over both strands when asked.
task::Predictions predict(models::SequenceClassifier& model, const data::TaskExamples& examples,
                          const task::Task& task, const InferenceOptions& options);

}  // namespace genolm::train
