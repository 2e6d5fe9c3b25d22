#pragma once
// The learning rate of every layer group at every step of a run, as one value the trainer steps by
// and run.json records ("lr_plan"). The report redraws the schedule from that record with the same
// function, so its plot is the run's schedule at every step and every group, not the rows that
// happened to be logged every log_every steps.
//
// A plan is a schedule shape (train/schedule.h) applied stage by stage: stage s runs steps
// [first_step, first_step + steps) from 0 of its own cycle, its top group at that cycle's rate and
// each trainable group below at the rate of the one above / lr_div (train/unfreezing.h); frozen
// groups are at 0. A language model is a plan of one stage and one group.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/schedule.h"

namespace genolm::train {

struct LrStage {
  std::int64_t first_step = 0;
  std::int64_t steps = 1;
  double lr = 0;              // the top group's peak rate
  std::size_t trainable = 1;  // groups that train, counted from the top
};

struct LrRates {
  std::vector<double> lr;  // one per group, from the input side up
  double beta1 = 0.9;
  std::size_t stage = 0;
};

struct LrPlan {
  ScheduleOptions shape;            // each stage replaces lr and total_steps with its own
  std::vector<std::string> groups;  // names, from the input side up
  double lr_div = 1;
  std::vector<LrStage> stages;  // in step order, each starting where the one before ends

  // The rates at (0-based) step `step`; past the last stage, that stage's last value.
  LrRates at(std::int64_t step) const;
  std::int64_t total_steps() const;

  nlohmann::json to_json() const;
  // Throws genolm::Error naming the field that is missing or malformed, or the stages that do
  // not follow each other.
  static LrPlan from_json(const nlohmann::json& json);
};

// Names for layer groups numbered from the input side: "embedding", "layer 1", ..., and "head"
// last when the groups end in one.
std::vector<std::string> layer_group_names(std::size_t groups, bool ends_in_head);

}  // namespace genolm::train
