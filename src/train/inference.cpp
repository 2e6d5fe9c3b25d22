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
#include "train/task_metrics.h"
#include "util/files.h"

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
  }
  return result;
}

Predictions predict(models::SequenceClassifier& model, const data::TaskExamples& examples,
                    const data::LabelScheme& scheme, const TargetScaling& scaling,
                    const InferenceOptions& options) {
  if (options.rc_average && examples.rc_tokens.size() != examples.size()) {
    throw Error("internal: strand averaging needs the reverse-complement tokens");
  }
  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard no_grad;
  const auto outputs = static_cast<std::int64_t>(scheme.outputs());
  const bool classify = scheme.kind == data::TaskKind::classification;
  // Classification averages probabilities, not logits: each strand's vote counts as a belief.
  const auto finish = [&](const torch::Tensor& raw) {
    return classify ? torch::softmax(raw, 1) : raw;
  };
  auto values = finish(raw_outputs(model, examples.tokens, options));
  if (options.rc_average) {
    values = (values + finish(raw_outputs(model, examples.rc_tokens, options))) / 2;
  }
  if (was_training) model.train();

  values = values.to(torch::kDouble).contiguous();
  Predictions predictions;
  predictions.width = static_cast<std::size_t>(outputs);
  predictions.values.assign(values.data_ptr<double>(), values.data_ptr<double>() + values.numel());
  if (!classify && scaling.active()) {
    for (std::size_t i = 0; i < predictions.values.size(); ++i) {
      const std::size_t t = i % predictions.width;
      predictions.values[i] = predictions.values[i] * scaling.deviation[t] + scaling.mean[t];
    }
  }
  return predictions;
}

nlohmann::json task_metrics(const data::LabelScheme& scheme, const Predictions& predictions,
                            const data::TaskExamples& examples, const TargetScaling& scaling) {
  const std::size_t n = examples.size();
  if (scheme.kind == data::TaskKind::classification) {
    auto metrics = classification_metrics(predictions.values, examples.classes, predictions.width);
    double nll = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double p =
          predictions.values[i * predictions.width + static_cast<std::size_t>(examples.classes[i])];
      nll -= std::log(std::max(p, 1e-12));
    }
    metrics.loss = nll / static_cast<double>(n);
    return metrics.to_json();
  }
  const std::size_t width = predictions.width;
  std::vector<double> truth(examples.targets.begin(), examples.targets.end());
  const auto per_target = regression_metrics(predictions.values, truth, width);
  double squared = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    const std::size_t t = i % width;
    const double scale = scaling.active() ? scaling.deviation[t] : 1.0;
    squared += std::pow((predictions.values[i] - truth[i]) / scale, 2);
  }
  nlohmann::json out = {{"loss", squared / static_cast<double>(truth.size())}};
  nlohmann::json targets = nlohmann::json::object();
  std::map<std::string, double> sums;
  for (std::size_t t = 0; t < width; ++t) {
    const auto json = per_target[t].to_json();
    targets[scheme.targets[t]] = json;
    for (const auto& [name, value] : json.items())
      sums[name] += value.is_number() ? value.get<double>() : kNaN;
  }
  for (const auto& [name, sum] : sums) {
    const double mean = sum / static_cast<double>(width);
    out[name] = std::isfinite(mean) ? nlohmann::json(mean) : nlohmann::json(nullptr);
  }
  out["targets"] = targets;
  return out;
}

double metric_value(const nlohmann::json& metrics, const std::string& name) {
  const auto found = metrics.find(name);
  return found != metrics.end() && found->is_number() ? found->get<double>() : kNaN;
}

bool higher_is_better(const std::string& metric) {
  return metric != "loss" && metric != "rmse" && metric != "mae";
}

void write_predictions(const std::filesystem::path& file, const data::LabelScheme& scheme,
                       const data::TaskExamples& examples, const Predictions& predictions) {
  std::ostringstream out;
  out.precision(6);
  const bool classify = scheme.kind == data::TaskKind::classification;
  const bool truth = classify ? !examples.classes.empty() : !examples.targets.empty();
  out << "id";
  if (classify) {
    if (truth) out << "\tlabel";
    out << "\tpredicted";
    for (const auto& name : scheme.classes)
      out << "\tprob_" << name;
  } else {
    for (const auto& name : scheme.targets) {
      if (truth) out << "\t" << name;
      out << "\t" << name << "_pred";
    }
  }
  out << "\n";
  const std::size_t width = predictions.width;
  for (std::size_t i = 0; i < examples.size(); ++i) {
    const double* row = predictions.values.data() + i * width;
    out << examples.ids[i];
    if (classify) {
      if (truth) out << "\t" << scheme.classes[static_cast<std::size_t>(examples.classes[i])];
      out << "\t"
          << scheme.classes[static_cast<std::size_t>(std::max_element(row, row + width) - row)];
      for (std::size_t c = 0; c < width; ++c)
        out << "\t" << row[c];
    } else {
      for (std::size_t t = 0; t < width; ++t) {
        if (truth) out << "\t" << examples.targets[i * width + t];
        out << "\t" << row[t];
      }
    }
    out << "\n";
  }
  write_file_atomically(file, out.str());
}

}  // namespace genolm::train
