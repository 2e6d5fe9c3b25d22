// Classification: cross-entropy (optionally with balanced class weights), softmax probabilities,
// accuracy and the other classification metrics, a prediction file with the predicted class and
// one probability column per class.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "genolm/error.h"
#include "io/tsv_field.h"
#include "task/task.h"
#include "train/task_metrics.h"

namespace genolm::task {
namespace {

class ClassificationTask final : public Task {
 public:
  ClassificationTask(std::vector<std::string> classes, bool balanced_weights)
      : Task(data::LabelScheme{
            .kind = data::TaskKind::classification, .classes = std::move(classes), .targets = {}}),
        balanced_weights_(balanced_weights) {}

  std::string_view kind() const override { return "classification"; }

  // Balanced weights: n / (classes * count) per class, as scikit-learn's "balanced".
  void fit(const data::TaskExamples& train) override {
    if (!balanced_weights_) return;
    std::vector<double> counts(scheme_.classes.size(), 0.0);
    for (const auto c : train.classes)
      counts[static_cast<std::size_t>(c)] += 1;
    std::vector<float> weights;
    for (const double count : counts)
      weights.push_back(count > 0 ? static_cast<float>(train.size() / (counts.size() * count))
                                  : 0.f);
    class_weights_ = torch::tensor(weights);
  }

  torch::Tensor loss(const torch::Tensor& outputs, const data::TaskExamples& examples,
                     const std::vector<std::size_t>& indices) const override {
    std::vector<std::int64_t> labels;
    for (const std::size_t e : indices)
      labels.push_back(examples.classes[e]);
    namespace F = torch::nn::functional;
    auto options = F::CrossEntropyFuncOptions();
    if (class_weights_.defined()) options.weight(class_weights_.to(outputs.device()));
    return F::cross_entropy(outputs, torch::tensor(labels, torch::kLong).to(outputs.device()),
                            options);
  }

  torch::Tensor finish(const torch::Tensor& raw) const override { return torch::softmax(raw, 1); }

  nlohmann::json metrics(const Predictions& predictions,
                         const data::TaskExamples& examples) const override {
    auto metrics =
        train::classification_metrics(predictions.values, examples.classes, predictions.width);
    double nll = 0;
    for (std::size_t i = 0; i < examples.size(); ++i) {
      const double p =
          predictions.values[i * predictions.width + static_cast<std::size_t>(examples.classes[i])];
      nll -= std::log(std::max(p, 1e-12));
    }
    metrics.loss = nll / static_cast<double>(examples.size());
    return metrics.to_json();
  }

  std::string default_metric() const override { return "accuracy"; }
  std::vector<std::string> headline_metrics() const override {
    return {"loss", "accuracy", "mcc", "macro_f1", "auroc"};
  }

  std::vector<std::string> report_metrics() const override {
    return {"accuracy", "balanced_accuracy", "mcc", "macro_f1", "auroc", "auprc"};
  }

  std::string prediction_table(const data::TaskExamples& examples,
                               const Predictions& predictions) const override {
    std::ostringstream out;
    const bool truth = !examples.classes.empty();
    out << "id";
    if (truth) out << "\tlabel";
    out << "\tpredicted";
    for (const auto& name : scheme_.classes)
      out << "\tprob_" << name;
    out << "\n";
    const std::size_t width = predictions.width;
    for (std::size_t i = 0; i < examples.size(); ++i) {
      const double* row = predictions.values.data() + i * width;
      out << io::tsv_field(examples.ids[i]);
      if (truth) out << "\t" << scheme_.classes[static_cast<std::size_t>(examples.classes[i])];
      out << "\t"
          << scheme_.classes[static_cast<std::size_t>(std::max_element(row, row + width) - row)];
      for (std::size_t c = 0; c < width; ++c)
        out << "\t" << io::tsv_number(row[c]);
      out << "\n";
    }
    return out.str();
  }

  nlohmann::json describe() const override {
    return {{"kind", kind()}, {"classes", scheme_.classes}};
  }

  std::vector<std::int64_t> strata(const data::TaskExamples& examples) const override {
    return examples.classes;
  }

 private:
  bool balanced_weights_ = false;
  torch::Tensor class_weights_;
};

std::unique_ptr<Task> from_recipe(const config::Recipe& recipe,
                                  const std::vector<io::LabelledExample>& train_records,
                                  const std::filesystem::path& train_file) {
  const auto& label_columns = recipe.strings("task.label_columns");
  if (label_columns.size() != 1) {
    throw Error("task.label_columns names " + std::to_string(label_columns.size()) +
                " columns: classification takes one, regression one or more");
  }
  auto classes = recipe.strings("task.classes");
  if (classes.empty()) classes = data::distinct_classes(train_records);
  if (classes.size() < 2) {
    throw Error(train_file.string() + ": column '" + label_columns[0] +
                "' holds a single class; classification needs two at least");
  }
  return std::make_unique<ClassificationTask>(std::move(classes),
                                              recipe.string("task.class_weights") == "balanced");
}

std::unique_ptr<Task> from_description(const nlohmann::json& task) {
  // Class weights shape training only; a loaded model predicts without them.
  return std::make_unique<ClassificationTask>(task.at("classes").get<std::vector<std::string>>(),
                                              false);
}

}  // namespace

const TaskKind& classification_kind() {
  static const TaskKind entry{
      .name = "classification", .from_recipe = from_recipe, .from_description = from_description};
  return entry;
}

}  // namespace genolm::task
