#include "train/inference.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include "genolm/error.h"
#include "train/device.h"
#include "train/precision.h"
#include "util/progress_log.h"

namespace genolm::train {
namespace {

// Raw outputs [examples x outputs] for one strand, in the examples' order.
torch::Tensor raw_outputs(models::SequenceClassifier& model,
                          const std::vector<std::vector<std::int32_t>>& tokens,
                          const InferenceOptions& options) {
  const torch::Device device = device_of(model);
  return map_in_length_batches(tokens, options.batch_size, device, [&](const BatchTensors& batch) {
    Bf16Autocast autocast(options.autocast, device.type());
    return model.forward(batch.ids, batch.lengths).to(torch::kFloat);
  });
}

}  // namespace

BatchTensors batch_tensors(data::PaddedBatch& batch, const torch::Device& device) {
  return {torch::from_blob(batch.ids.data(), {batch.rows, batch.steps}, torch::kLong).to(device),
          torch::from_blob(batch.lengths.data(), {batch.rows}, torch::kLong).to(device)};
}

torch::Tensor map_in_length_batches(
    const std::vector<std::vector<std::int32_t>>& tokens, std::int64_t batch_size,
    const torch::Device& device,
    const std::function<torch::Tensor(const BatchTensors&)>& per_batch) {
  torch::Tensor result;
  // Millions of sequences take a while: a long pass says how far it is.
  ProgressLog progress("model", "sequences", "");
  std::uint64_t done = 0;
  for (const auto& indices :
       data::sorted_batches(data::token_lengths(tokens), static_cast<std::size_t>(batch_size))) {
    std::vector<const std::vector<std::int32_t>*> sequences;
    for (const std::size_t i : indices)
      sequences.push_back(&tokens[i]);
    auto padded = data::pad_batch(sequences);
    const auto out = per_batch(batch_tensors(padded, device)).cpu();
    if (!result.defined())
      result = torch::empty({static_cast<std::int64_t>(tokens.size()), out.size(1)}, out.options());
    const std::vector<std::int64_t> rows(indices.begin(), indices.end());
    result.index_copy_(0, torch::tensor(rows, torch::kLong), out);
    done += indices.size();
    progress.update(done, static_cast<double>(done) / static_cast<double>(tokens.size()));
  }
  return result;
}

task::Predictions predict(models::SequenceClassifier& model, const data::TaskExamples& examples,
                          const task::Task& task, const InferenceOptions& options) {
  if (options.rc_average && examples.rc_tokens.size() != examples.size()) {
    throw Error("internal: strand averaging needs the reverse-complement tokens");
  }
  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard no_grad;
  auto values = task.finish(raw_outputs(model, examples.tokens, options));
  if (options.rc_average) {
    values = (values + task.finish(raw_outputs(model, examples.rc_tokens, options))) / 2;
  }
  if (was_training) model.train();
  return task.to_predictions(values);
}

}  // namespace genolm::train
