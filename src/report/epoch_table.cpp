#include "report/epoch_table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace genolm::report {
namespace {

constexpr int kNumberWidth = 10;  // "0.1234" and a name such as "valid_loss" fit

std::string cell(const std::string& text, std::size_t width) {
  return text + std::string(width > text.size() ? width - text.size() : 1, ' ');
}

std::string number(double value) {
  if (!std::isfinite(value)) return "nan";
  char text[32];
  std::snprintf(text, sizeof text, "%.4f", value);
  return text;
}

}  // namespace

std::string clock_time(double seconds) {
  const auto total = static_cast<long long>(std::llround(std::max(0.0, seconds)));
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", total / 3600, total % 3600 / 60,
                  total % 60);
  } else {
    std::snprintf(text, sizeof text, "%lld:%02lld", total / 60, total % 60);
  }
  return text;
}

EpochTable::EpochTable(const std::vector<std::string>& metrics) {
  for (const auto& name : metrics)
    if (name != "loss") metrics_.push_back(name);
}

std::string EpochTable::header() const {
  std::string line = cell("epoch", 7) + cell("stage", 7) + cell("train_loss", kNumberWidth + 2) +
                     cell("valid_loss", kNumberWidth + 2);
  for (const auto& name : metrics_)
    line += cell(name, std::max<std::size_t>(kNumberWidth, name.size() + 2));
  return line + "time";
}

std::string EpochTable::row(const EpochRow& row) const {
  std::string line = cell(std::to_string(row.epoch), 7) + cell(std::to_string(row.stage), 7) +
                     cell(number(row.train_loss), kNumberWidth + 2) +
                     cell(number(row.valid_loss), kNumberWidth + 2);
  for (const auto& name : metrics_) {
    const auto found = row.valid_metrics.find(name);
    const double value = found != row.valid_metrics.end() && found->is_number()
                             ? found->get<double>()
                             : std::nan("");
    line += cell(number(value), std::max<std::size_t>(kNumberWidth, name.size() + 2));
  }
  line += clock_time(row.seconds);
  if (row.best) line += "  (best so far: saved)";
  return line;
}

}  // namespace genolm::report
