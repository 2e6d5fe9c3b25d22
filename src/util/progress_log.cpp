#include "util/progress_log.h"

#include <cmath>
#include <cstdio>

#include "util/log.h"

namespace genolm {
namespace {

std::string grouped(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

std::string eta_text(double seconds) {
  const auto total = static_cast<long long>(std::llround(std::max(0.0, seconds)));
  char text[32];
  if (total >= 3600)
    std::snprintf(text, sizeof text, "%lldh%02lldm", total / 3600, total % 3600 / 60);
  else
    std::snprintf(text, sizeof text, "%lldm%02llds", total / 60, total % 60);
  return text;
}

ProgressLog::ProgressLog(std::string area, std::string what, std::string of,
                         std::chrono::seconds interval)
    : area_(std::move(area)),
      what_(std::move(what)),
      of_(std::move(of)),
      interval_(interval),
      start_(std::chrono::steady_clock::now()),
      next_(start_ + interval) {}

void ProgressLog::update(std::uint64_t done, double fraction) {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_) return;
  next_ = now + interval_;
  log(area_)->info(
      "{}", line(done, fraction, std::chrono::duration<double>(now - start_).count(), what_, of_));
}

std::string ProgressLog::line(std::uint64_t done, double fraction, double seconds,
                              const std::string& what, const std::string& of) {
  std::string text = grouped(done) + " " + what;
  const bool known = std::isfinite(fraction) && fraction > 0;
  if (known) {
    char share[32];
    std::snprintf(share, sizeof share, "%.0f%%", 100 * fraction);
    text += std::string(" (") + share + (of.empty() ? "" : " of " + of) + ")";
  }
  if (seconds > 0) {
    text += ", " + grouped(static_cast<std::uint64_t>(static_cast<double>(done) / seconds)) + " " +
            what + "/s";
  }
  if (known) text += ", ETA " + eta_text(seconds * (1 - fraction) / fraction);
  return text;
}

}  // namespace genolm
