#include "cli/ensemble.h"

#include "genolm/error.h"
#include "util/log.h"

namespace genolm::cli {
namespace {

// What a prediction means: the kind and its classes or targets. Scaling (a regression's target
// standardisation) differs between members and is undone before averaging.
nlohmann::json task_identity(const train::ModelFolder& folder) {
  auto identity = folder.task->describe();
  identity.erase("scaling");
  return identity;
}

}  // namespace

task::Predictions average_predictions(const std::vector<task::Predictions>& members) {
  if (members.empty()) throw Error("internal: an ensemble of no predictions");
  task::Predictions mean = members.front();
  for (std::size_t m = 1; m < members.size(); ++m) {
    const auto& member = members[m];
    if (member.width != mean.width || member.values.size() != mean.values.size()) {
      throw Error("internal: ensemble members predicted different shapes");
    }
    for (std::size_t i = 0; i < mean.values.size(); ++i)
      mean.values[i] += member.values[i];
  }
  for (auto& value : mean.values)
    value /= static_cast<double>(members.size());
  return mean;
}

void require_same_task(const train::ModelFolder& lead, const std::string& lead_name,
                       const train::ModelFolder& member, const std::string& member_name) {
  const auto a = task_identity(lead), b = task_identity(member);
  if (a != b) {
    throw Error("an ensemble's models must predict the same task: " + lead_name + " predicts " +
                a.dump() + " but " + member_name + " predicts " + b.dump());
  }
}

EnsemblePredictions predict_ensemble(const ModelInputOptions& options, const StrandFlags& strands,
                                     bool with_labels, const std::string& command) {
  EnsemblePredictions result;
  std::vector<task::Predictions> members;
  for (const auto& model : options.models) {
    // One member in memory at a time beside the lead: ensembles of large models stay affordable.
    auto folder = load_fine_tuned(model, options, command);
    const bool rc_average = strands.average(folder);
    auto examples = read_examples(options, folder, with_labels, rc_average);
    members.push_back(predict_with(folder, examples, options.batch_size, rc_average));
    if (members.size() == 1) {
      result.lead = std::move(folder);
      result.examples = std::move(examples);
      continue;
    }
    require_same_task(result.lead, options.models.front(), folder, model);
    if (examples.ids != result.examples.ids) {
      throw Error("internal: " + model + " read " + options.input + " into other records than " +
                  options.models.front());
    }
    log(command)->info("ensemble member {} of {}: {} ({})", members.size(), options.models.size(),
                       model, run::direction_name(folder.card.direction));
  }
  result.members = members.size();
  result.predictions = average_predictions(members);
  return result;
}

}  // namespace genolm::cli
