#pragma once
// The metrics log of a run: one JSON object per line in <run>/metrics.jsonl. Lines are flushed as
// they are written, so a killed run keeps every row it logged; readers skip a torn last line
// instead of failing, and a resumed run cuts the rows after its checkpoint so no step is logged
// twice.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

namespace genolm::report {

class MetricsLog {
 public:
  // Opens `file` for appending, creating it if needed.
  explicit MetricsLog(std::filesystem::path file);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  // Writes `row` (a JSON object, e.g. {"step": 120, "split": "train", "loss": 1.31}) as one line
  // and flushes it. NaN and infinity are written as null, which JSON can hold.
  void append(const nlohmann::json& row);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
};

// Every row of `file` in order; an absent file has none. Lines that are not a whole JSON object
// (a torn last line of a killed run, say) are skipped and, when `skipped` is given, counted there.
std::vector<nlohmann::json> read_metrics(const std::filesystem::path& file,
                                         std::size_t* skipped = nullptr);

// Rewrites `file` keeping the rows whose "step" is at most `step` (and rows without a step);
// malformed lines go too. The new file replaces the old by rename, so a crash leaves one or the
// other whole.
void truncate_metrics_after(const std::filesystem::path& file, std::int64_t step);

}  // namespace genolm::report
