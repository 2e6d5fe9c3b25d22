// Regression: one or more numeric targets, learned standardised (train mean and deviation) unless
// an output range squashes the outputs; MSE or Huber loss; RMSE, MAE, correlations and R² per
// target and their mean; a prediction file with <target>_pred columns.
#include <torch/torch.h>

#include <cmath>
#include <map>
#include <sstream>

#include "genolm/error.h"
#include "io/tsv_field.h"
#include "task/task.h"
#include "train/task_metrics.h"

namespace genolm::task {
namespace {

// Regression targets are learned standardised; predictions are mapped back with these. Empty
// vectors: values are used as they are.
struct TargetScaling {
  std::vector<double> mean, deviation;
  bool active() const { return !mean.empty(); }
};

class RegressionTask final : public Task {
 public:
  RegressionTask(std::vector<std::string> targets, bool standardise, bool huber,
                 TargetScaling scaling = {})
      : Task(data::LabelScheme{
            .kind = data::TaskKind::regression, .classes = {}, .targets = std::move(targets)}),
        standardise_(standardise),
        huber_(huber),
        scaling_(std::move(scaling)) {}

  std::string_view kind() const override { return "regression"; }

  void fit(const data::TaskExamples& train) override {
    if (!standardise_) return;
    const std::size_t width = scheme_.targets.size();
    scaling_.mean.assign(width, 0.0);
    scaling_.deviation.assign(width, 0.0);
    const double n = static_cast<double>(train.size());
    for (std::size_t i = 0; i < train.targets.size(); ++i)
      scaling_.mean[i % width] += train.targets[i] / n;
    for (std::size_t i = 0; i < train.targets.size(); ++i)
      scaling_.deviation[i % width] += std::pow(train.targets[i] - scaling_.mean[i % width], 2) / n;
    for (auto& deviation : scaling_.deviation)
      deviation = deviation > 0 ? std::sqrt(deviation) : 1.0;
  }

  torch::Tensor loss(const torch::Tensor& outputs, const data::TaskExamples& examples,
                     const std::vector<std::size_t>& indices) const override {
    const std::size_t width = scheme_.targets.size();
    std::vector<float> targets;
    for (const std::size_t e : indices) {
      for (std::size_t t = 0; t < width; ++t) {
        double y = examples.targets[e * width + t];
        if (scaling_.active()) y = (y - scaling_.mean[t]) / scaling_.deviation[t];
        targets.push_back(static_cast<float>(y));
      }
    }
    const auto y =
        torch::tensor(targets)
            .view({static_cast<std::int64_t>(indices.size()), static_cast<std::int64_t>(width)})
            .to(outputs.device());
    return huber_ ? torch::huber_loss(outputs, y) : torch::mse_loss(outputs, y);
  }

  torch::Tensor finish(const torch::Tensor& raw) const override { return raw; }

  Predictions to_predictions(const torch::Tensor& averaged) const override {
    auto predictions = Task::to_predictions(averaged);
    if (scaling_.active()) {
      for (std::size_t i = 0; i < predictions.values.size(); ++i) {
        const std::size_t t = i % predictions.width;
        predictions.values[i] = predictions.values[i] * scaling_.deviation[t] + scaling_.mean[t];
      }
    }
    return predictions;
  }

  // "loss" is the mean squared error of standardised targets; every other metric is reported per
  // target under "targets" and as the mean over targets.
  nlohmann::json metrics(const Predictions& predictions,
                         const data::TaskExamples& examples) const override {
    const std::size_t width = predictions.width;
    std::vector<double> truth(examples.targets.begin(), examples.targets.end());
    const auto per_target = train::regression_metrics(predictions.values, truth, width);
    double squared = 0;
    for (std::size_t i = 0; i < truth.size(); ++i) {
      const std::size_t t = i % width;
      const double scale = scaling_.active() ? scaling_.deviation[t] : 1.0;
      squared += std::pow((predictions.values[i] - truth[i]) / scale, 2);
    }
    nlohmann::json out = {{"loss", squared / static_cast<double>(truth.size())}};
    nlohmann::json targets = nlohmann::json::object();
    std::map<std::string, double> sums;
    for (std::size_t t = 0; t < width; ++t) {
      const auto json = per_target[t].to_json();
      targets[scheme_.targets[t]] = json;
      for (const auto& [name, value] : json.items())
        sums[name] += value.is_number() ? value.get<double>() : train::kNaN;
    }
    for (const auto& [name, sum] : sums) {
      const double mean = sum / static_cast<double>(width);
      out[name] = std::isfinite(mean) ? nlohmann::json(mean) : nlohmann::json(nullptr);
    }
    out["targets"] = targets;
    return out;
  }

  std::string default_metric() const override { return "r2"; }
  std::vector<std::string> headline_metrics() const override {
    return {"loss", "rmse", "pearson", "spearman", "r2"};
  }

  std::vector<std::string> report_metrics() const override {
    return {"rmse", "mae", "pearson", "spearman", "r2"};
  }

  std::string prediction_table(const data::TaskExamples& examples,
                               const Predictions& predictions) const override {
    std::ostringstream out;
    const bool truth = !examples.targets.empty();
    out << "id";
    for (const auto& name : scheme_.targets) {
      if (truth) out << "\t" << name;
      out << "\t" << name << "_pred";
    }
    out << "\n";
    const std::size_t width = predictions.width;
    for (std::size_t i = 0; i < examples.size(); ++i) {
      const double* row = predictions.values.data() + i * width;
      out << io::tsv_field(examples.ids[i]);
      for (std::size_t t = 0; t < width; ++t) {
        if (truth) out << "\t" << io::input_number(examples.targets[i * width + t]);
        out << "\t" << io::tsv_number(row[t]);
      }
      out << "\n";
    }
    return out.str();
  }

  nlohmann::json describe() const override {
    nlohmann::json out = {{"kind", kind()}, {"targets", scheme_.targets}};
    if (scaling_.active())
      out["scaling"] = {{"mean", scaling_.mean}, {"deviation", scaling_.deviation}};
    return out;
  }

  std::vector<std::int64_t> strata(const data::TaskExamples& examples) const override {
    return std::vector<std::int64_t>(examples.size(), 0);
  }

 private:
  bool standardise_ = false;
  bool huber_ = false;
  TargetScaling scaling_;
};

std::unique_ptr<Task> from_recipe(const config::Recipe& recipe,
                                  const std::vector<io::LabelledExample>& /*train_records*/,
                                  const std::filesystem::path& /*train_file*/) {
  const auto& label_columns = recipe.strings("task.label_columns");
  if (label_columns.empty()) {
    throw Error("task.label_columns names no column: regression takes one or more");
  }
  // With an output range the head squashes raw values into it: targets stay in their units.
  const bool standardise =
      recipe.numbers("task.output_range").empty() && recipe.boolean("task.normalize_targets");
  return std::make_unique<RegressionTask>(label_columns, standardise,
                                          recipe.string("task.loss") == "huber");
}

std::unique_ptr<Task> from_description(const nlohmann::json& task) {
  TargetScaling scaling;
  if (const auto found = task.find("scaling"); found != task.end() && !found->is_null()) {
    scaling.mean = found->at("mean").get<std::vector<double>>();
    scaling.deviation = found->at("deviation").get<std::vector<double>>();
  }
  return std::make_unique<RegressionTask>(task.at("targets").get<std::vector<std::string>>(), false,
                                          false, std::move(scaling));
}

}  // namespace

const TaskKind& regression_kind() {
  static const TaskKind entry{
      .name = "regression", .from_recipe = from_recipe, .from_description = from_description};
  return entry;
}

}  // namespace genolm::task
