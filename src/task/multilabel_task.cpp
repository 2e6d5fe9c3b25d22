// Multi-label classification: many 0/1 label columns per sequence (DeepSEA-style molecular
// phenotypes), one sigmoid output each; binary cross-entropy (optionally with a per-label
// pos_weight), per-label and macro AUROC/AUPRC and accuracy at 0.5; a prediction file with one
// prob_<label> column per label.
#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <sstream>

#include "genolm/error.h"
#include "io/tsv_field.h"
#include "task/task.h"
#include "train/task_metrics.h"

namespace genolm::task {
namespace {

class MultilabelTask final : public Task {
 public:
  MultilabelTask(std::vector<std::string> labels, bool balanced_weights)
      : Task(data::LabelScheme{
            .kind = data::TaskKind::multilabel, .classes = {}, .targets = std::move(labels)}),
        balanced_weights_(balanced_weights) {}

  std::string_view kind() const override { return "multilabel"; }

  // Balanced: each label's positives weigh negatives / positives in the loss (BCEWithLogits'
  // pos_weight), so a rare phenotype's positives count as much as its negatives. A label with no
  // positives or no negatives in train keeps weight 1: there is nothing to balance.
  void fit(const data::TaskExamples& train) override {
    if (!balanced_weights_) return;
    const std::size_t width = scheme_.targets.size();
    std::vector<double> positives(width, 0.0);
    for (std::size_t i = 0; i < train.targets.size(); ++i)
      positives[i % width] += train.targets[i];
    const double n = static_cast<double>(train.size());
    std::vector<float> weights;
    for (const double p : positives)
      weights.push_back(p > 0 && p < n ? static_cast<float>((n - p) / p) : 1.f);
    pos_weight_ = torch::tensor(weights);
  }

  torch::Tensor loss(const torch::Tensor& outputs, const data::TaskExamples& examples,
                     const std::vector<std::size_t>& indices) const override {
    const std::size_t width = scheme_.targets.size();
    std::vector<float> truth;
    truth.reserve(indices.size() * width);
    for (const std::size_t e : indices)
      truth.insert(truth.end(), examples.targets.begin() + e * width,
                   examples.targets.begin() + (e + 1) * width);
    const auto y =
        torch::tensor(truth)
            .view({static_cast<std::int64_t>(indices.size()), static_cast<std::int64_t>(width)})
            .to(outputs.device());
    namespace F = torch::nn::functional;
    auto options = F::BinaryCrossEntropyWithLogitsFuncOptions();  // mean over rows and labels
    if (pos_weight_.defined()) options.pos_weight(pos_weight_.to(outputs.device()));
    return F::binary_cross_entropy_with_logits(outputs, y, options);
  }

  // Strand averaging averages probabilities, as classification's does.
  torch::Tensor finish(const torch::Tensor& raw) const override { return torch::sigmoid(raw); }

  nlohmann::json metrics(const Predictions& predictions,
                         const data::TaskExamples& examples) const override {
    return train::multilabel_metrics(predictions.values, examples.targets, predictions.width)
        .to_json(scheme_.targets);
  }

  std::string default_metric() const override { return "auroc"; }
  std::vector<std::string> headline_metrics() const override {
    return {"loss", "auroc", "auprc", "accuracy"};
  }
  std::vector<std::string> report_metrics() const override {
    return {"auroc", "auprc", "accuracy"};
  }

  // id, the true labels (when known) under their own column names, so that the file reads back
  // as a labelled table, then prob_<label> per label.
  std::string prediction_table(const data::TaskExamples& examples,
                               const Predictions& predictions) const override {
    std::ostringstream out;
    const bool truth = !examples.targets.empty();
    const std::size_t width = predictions.width;
    out << "id";
    if (truth)
      for (const auto& name : scheme_.targets)
        out << "\t" << name;
    for (const auto& name : scheme_.targets)
      out << "\tprob_" << name;
    out << "\n";
    for (std::size_t i = 0; i < examples.size(); ++i) {
      out << io::tsv_field(examples.ids[i]);
      if (truth)
        for (std::size_t l = 0; l < width; ++l)
          out << "\t" << io::input_number(examples.targets[i * width + l]);
      for (std::size_t l = 0; l < width; ++l)
        out << "\t" << io::tsv_number(predictions.values[i * width + l]);
      out << "\n";
    }
    return out.str();
  }

  nlohmann::json describe() const override {
    return {{"kind", kind()}, {"labels", scheme_.targets}};
  }

  // Every example's stratum is its rarest positive label (the first step of Sechidis et al.'s
  // iterative stratification): the few positives of a rare label then spread over the splits in
  // proportion, where a random split could leave a label without positives in valid. Examples
  // with no positive label form one more stratum.
  std::vector<std::int64_t> strata(const data::TaskExamples& examples) const override {
    const std::size_t width = scheme_.targets.size();
    std::vector<std::int64_t> positives(width, 0);
    for (std::size_t i = 0; i < examples.targets.size(); ++i)
      positives[i % width] += examples.targets[i] == 1.f ? 1 : 0;
    std::vector<std::int64_t> strata;
    strata.reserve(examples.size());
    for (std::size_t e = 0; e < examples.size(); ++e) {
      auto stratum = static_cast<std::int64_t>(width);  // no positive label
      std::int64_t fewest = std::numeric_limits<std::int64_t>::max();
      for (std::size_t l = 0; l < width; ++l) {
        if (examples.targets[e * width + l] == 1.f && positives[l] < fewest) {
          fewest = positives[l];
          stratum = static_cast<std::int64_t>(l);
        }
      }
      strata.push_back(stratum);
    }
    return strata;
  }

 private:
  bool balanced_weights_ = false;
  torch::Tensor pos_weight_;
};

std::unique_ptr<Task> from_recipe(const config::Recipe& recipe,
                                  const std::vector<io::LabelledExample>& /*train_records*/,
                                  const std::filesystem::path& /*train_file*/) {
  const auto& label_columns = recipe.strings("task.label_columns");
  if (label_columns.empty()) {
    throw Error("task.label_columns names no column: multilabel takes one 0/1 column per label");
  }
  for (std::size_t i = 0; i < label_columns.size(); ++i)
    if (std::find(label_columns.begin(), label_columns.begin() + i, label_columns[i]) !=
        label_columns.begin() + i)
      throw Error("task.label_columns names '" + label_columns[i] + "' twice");
  // The head would squash the logits into the range before the sigmoid.
  if (!recipe.numbers("task.output_range").empty()) {
    throw Error("task.output_range is regression's: a multilabel head outputs one logit per label");
  }
  // A metric the kind does not compute would be NaN every epoch and never pick a best one.
  const auto& metric = recipe.string("task.metric");
  if (metric != "auto" && metric != "loss" && metric != "auroc" && metric != "auprc" &&
      metric != "accuracy") {
    throw Error("task.metric '" + metric +
                "' is not a multilabel metric (expected auto, auroc, auprc, accuracy or loss)");
  }
  return std::make_unique<MultilabelTask>(label_columns,
                                          recipe.string("task.class_weights") == "balanced");
}

std::unique_ptr<Task> from_description(const nlohmann::json& task) {
  // The weights shape training only; a loaded model predicts without them.
  return std::make_unique<MultilabelTask>(task.at("labels").get<std::vector<std::string>>(), false);
}

}  // namespace

const TaskKind& multilabel_kind() {
  static const TaskKind entry{
      .name = "multilabel", .from_recipe = from_recipe, .from_description = from_description};
  return entry;
}

}  // namespace genolm::task
