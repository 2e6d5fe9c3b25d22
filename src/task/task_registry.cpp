#include <cmath>

#include "genolm/error.h"
#include "task/task.h"
#include "train/task_metrics.h"
#include "util/files.h"
#include "util/registry.h"

namespace genolm::task {

// Each entry is defined beside its kind.
const TaskKind& classification_kind();
const TaskKind& regression_kind();
const TaskKind& multilabel_kind();

const std::vector<TaskKind>& task_kinds() {
  // The registration table: one line per task kind.
  static const std::vector<TaskKind> table = {classification_kind(), regression_kind(),
                                              multilabel_kind()};
  return table;
}

const TaskKind& task_kind(std::string_view name) {
  return find_registered(task_kinds(), name, "task kind");
}

Predictions Task::to_predictions(const torch::Tensor& averaged) const {
  const auto values = averaged.to(torch::kDouble).contiguous();
  Predictions predictions;
  predictions.width = static_cast<std::size_t>(outputs());
  predictions.values.assign(values.data_ptr<double>(), values.data_ptr<double>() + values.numel());
  return predictions;
}

double metric_value(const nlohmann::json& metrics, const std::string& name) {
  const auto found = metrics.find(name);
  return found != metrics.end() && found->is_number() ? found->get<double>() : train::kNaN;
}

bool higher_is_better(const std::string& metric) {
  return metric != "loss" && metric != "rmse" && metric != "mae";
}

void write_predictions(const std::filesystem::path& file, const Task& task,
                       const data::TaskExamples& examples, const Predictions& predictions) {
  write_file_atomically(file, task.prediction_table(examples, predictions));
}

}  // namespace genolm::task
