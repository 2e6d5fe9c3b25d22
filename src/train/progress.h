#pragma once
// Progress on a terminal: one line redrawn in place (step, loss, tokens/s, ETA). When stderr is not
// a terminal (SLURM, nohup) it stays silent and the log lines carry position_text() instead.

#include <chrono>
#include <cstdint>
#include <string>

namespace genolm::train {

class ProgressBar {
 public:
  ProgressBar(std::int64_t total_steps, std::int64_t first_step);
  bool active() const { return active_; }
  void update(std::int64_t step, double loss, double tokens_per_s);
  // "42% ETA 3m10s": how far `step` is and how long the rest should take at this session's pace.
  std::string position_text(std::int64_t step) const;
  // Clears the line so a log line can be printed; the next update redraws it.
  void clear();
  void finish();

 private:
  bool active_;
  std::int64_t total_;
  std::int64_t first_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace genolm::train
