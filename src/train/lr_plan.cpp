#include "train/lr_plan.h"

#include <algorithm>

#include "genolm/error.h"
#include "train/unfreezing.h"

namespace genolm::train {

using nlohmann::json;

namespace {

const json& field(const json& object, const char* key, const char* where) {
  const auto found = object.find(key);
  if (found == object.end())
    throw Error(std::string("lr_plan: ") + where + " has no \"" + key + "\"");
  return *found;
}

double number_field(const json& object, const char* key, const char* where) {
  const json& value = field(object, key, where);
  if (!value.is_number())
    throw Error(std::string("lr_plan: ") + where + "'s \"" + key + "\" is " + value.dump() +
                ", not a number");
  return value.get<double>();
}

std::int64_t count_field(const json& object, const char* key, const char* where) {
  const json& value = field(object, key, where);
  if (!value.is_number_integer() || value.get<std::int64_t>() < 0)
    throw Error(std::string("lr_plan: ") + where + "'s \"" + key + "\" is " + value.dump() +
                ", not a count");
  return value.get<std::int64_t>();
}

}  // namespace

LrRates LrPlan::at(std::int64_t step) const {
  LrRates out;
  if (stages.empty()) {
    out.lr.assign(groups.size(), 0.0);
    return out;
  }
  while (out.stage + 1 < stages.size() && step >= stages[out.stage + 1].first_step)
    ++out.stage;
  const LrStage& stage = stages[out.stage];
  ScheduleOptions cycle = shape;
  cycle.lr = stage.lr;
  cycle.total_steps = stage.steps;
  const ScheduleValue value = schedule_at(cycle, step - stage.first_step);
  out.lr = group_learning_rates(value.lr, groups.size(), stage.trainable, lr_div);
  out.beta1 = value.beta1;
  return out;
}

std::int64_t LrPlan::total_steps() const {
  return stages.empty() ? 0 : stages.back().first_step + stages.back().steps;
}

json LrPlan::to_json() const {
  json out = {{"schedule", shape.kind},
              {"groups", groups},
              {"lr_div", lr_div},
              {"shape",
               {{"warmup", shape.warmup},
                {"beta1", shape.beta1},
                {"pct_start", shape.pct_start},
                {"div", shape.div},
                {"div_final", shape.div_final},
                {"moms_high", shape.moms_high},
                {"moms_low", shape.moms_low},
                {"cut_frac", shape.cut_frac},
                {"ratio", shape.ratio}}},
              {"stages", json::array()}};
  for (const auto& stage : stages)
    out["stages"].push_back({{"first_step", stage.first_step},
                             {"steps", stage.steps},
                             {"lr", stage.lr},
                             {"trainable_groups", stage.trainable}});
  return out;
}

LrPlan LrPlan::from_json(const json& in) {
  if (!in.is_object()) throw Error("lr_plan is " + in.dump() + ", not an object");
  LrPlan plan;
  const json& kind = field(in, "schedule", "the plan");
  if (!kind.is_string()) throw Error("lr_plan: \"schedule\" is not a name");
  plan.shape.kind = kind.get<std::string>();
  const json& groups = field(in, "groups", "the plan");
  if (!groups.is_array() || groups.empty())
    throw Error("lr_plan: \"groups\" is not a list of group names");
  for (const auto& name : groups) {
    if (!name.is_string()) throw Error("lr_plan: \"groups\" holds " + name.dump());
    plan.groups.push_back(name.get<std::string>());
  }
  plan.lr_div = number_field(in, "lr_div", "the plan");
  const json& shape = field(in, "shape", "the plan");
  auto& s = plan.shape;
  for (auto [key, target] : {std::pair{"warmup", &s.warmup},
                             {"beta1", &s.beta1},
                             {"pct_start", &s.pct_start},
                             {"div", &s.div},
                             {"div_final", &s.div_final},
                             {"moms_high", &s.moms_high},
                             {"moms_low", &s.moms_low},
                             {"cut_frac", &s.cut_frac},
                             {"ratio", &s.ratio}})
    *target = number_field(shape, key, "\"shape\"");
  const json& stages = field(in, "stages", "the plan");
  if (!stages.is_array() || stages.empty()) throw Error("lr_plan: \"stages\" is not a list");
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const std::string where = "stage " + std::to_string(i + 1);
    LrStage stage{.first_step = count_field(stages[i], "first_step", where.c_str()),
                  .steps = count_field(stages[i], "steps", where.c_str()),
                  .lr = number_field(stages[i], "lr", where.c_str()),
                  .trainable = static_cast<std::size_t>(
                      count_field(stages[i], "trainable_groups", where.c_str()))};
    if (stage.first_step != plan.total_steps())
      throw Error("lr_plan: " + where + " starts at step " + std::to_string(stage.first_step) +
                  ", not where the stage before it ends (" + std::to_string(plan.total_steps()) +
                  ")");
    plan.stages.push_back(stage);
  }
  schedule_at(plan.shape, 0);  // an unknown schedule is an error here, not when drawn
  return plan;
}

std::vector<std::string> layer_group_names(std::size_t groups, bool ends_in_head) {
  std::vector<std::string> names;
  for (std::size_t g = 0; g < groups; ++g) {
    if (g == 0)
      names.emplace_back("embedding");
    else if (ends_in_head && g + 1 == groups)
      names.emplace_back("head");
    else
      names.push_back("layer " + std::to_string(g));
  }
  return names;
}

}  // namespace genolm::train
