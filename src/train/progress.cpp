#include "train/progress.h"

#include <unistd.h>

#include <cstdio>

#include "util/progress_log.h"

namespace genolm::train {

ProgressBar::ProgressBar(std::int64_t total_steps, std::int64_t first_step)
    : active_(isatty(STDERR_FILENO) != 0),
      total_(total_steps),
      first_(first_step),
      start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(std::int64_t step, double loss, double tokens_per_s) {
  if (!active_) return;
  const auto now = std::chrono::steady_clock::now();
  if (step < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double done = static_cast<double>(step - first_);
  const double eta = done > 0 ? elapsed / done * static_cast<double>(total_ - step) : 0.0;
  const std::string eta_left = eta_text(eta);
  const int width = 24;
  const int filled = total_ > 0 ? static_cast<int>(width * step / total_) : width;
  char bar[width + 1];
  for (int i = 0; i < width; ++i)
    bar[i] = i < filled ? '#' : '.';
  bar[width] = '\0';
  std::fprintf(stderr, "\r[%s] step %lld/%lld  loss %.4f  %.0f tok/s  ETA %s\033[K", bar,
               static_cast<long long>(step), static_cast<long long>(total_), loss, tokens_per_s,
               eta_left.c_str());
  std::fflush(stderr);
}

std::string ProgressBar::position_text(std::int64_t step) const {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double done = static_cast<double>(step - first_);
  const double percent =
      total_ > 0 ? 100.0 * static_cast<double>(step) / static_cast<double>(total_) : 100.0;
  const std::string eta_left =
      done > 0 ? eta_text(elapsed / done * static_cast<double>(total_ - step)) : "?";
  char text[32];
  std::snprintf(text, sizeof text, "%.0f%% ETA ", percent);
  return text + eta_left;
}

void ProgressBar::clear() {
  if (!active_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (!active_) return;
  std::fprintf(stderr, "\n");
}

}  // namespace genolm::train
