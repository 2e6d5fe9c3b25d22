#pragma once
// fastai's table of a fine-tuning in the log: a header once, then one row per epoch (epoch,
// stage, train loss, valid loss, the task's headline metrics, time), columns aligned so the
// epochs read down a terminal or a train.log.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace genolm::report {

struct EpochRow {
  long long epoch = 0;  // 1-based
  long long stage = 0;  // 1-based
  double train_loss = 0;
  double valid_loss = 0;
  nlohmann::json valid_metrics;  // the valid row of metrics.jsonl
  double seconds = 0;            // the epoch's training and validation
  bool best = false;             // its weights were kept
};

class EpochTable {
 public:
  // `metrics`: the task's headline metrics; "loss" among them is the valid_loss column.
  explicit EpochTable(const std::vector<std::string>& metrics);
  std::string header() const;
  std::string row(const EpochRow& row) const;

 private:
  std::vector<std::string> metrics_;
};

// "1:05" (m:ss), or "1:02:05" past an hour, as fastai prints times.
std::string clock_time(double seconds);

}  // namespace genolm::report
