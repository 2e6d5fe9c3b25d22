#include "train/schedule.h"

#include <algorithm>
#include <cmath>

#include "genolm/error.h"

namespace genolm::train {
namespace {

// Cosine interpolation from `start` to `end` as `fraction` goes 0 -> 1.
double cosine(double start, double end, double fraction) {
  return end + (start - end) / 2.0 * (std::cos(M_PI * fraction) + 1.0);
}

}  // namespace

ScheduleValue schedule_at(const ScheduleOptions& o, std::int64_t step) {
  const double total = static_cast<double>(std::max<std::int64_t>(1, o.total_steps));
  const double t = std::clamp(static_cast<double>(step) / total, 0.0, 1.0);
  if (o.kind == "constant") return {o.lr, o.beta1};
  if (o.kind == "one_cycle") {
    if (t < o.pct_start) {
      const double f = t / o.pct_start;
      return {cosine(o.lr / o.div, o.lr, f), cosine(o.moms_high, o.moms_low, f)};
    }
    const double f = (t - o.pct_start) / (1.0 - o.pct_start);
    return {cosine(o.lr, o.lr / o.div_final, f), cosine(o.moms_low, o.moms_high, f)};
  }
  if (o.kind == "slanted_triangular") {
    const double p = t < o.cut_frac ? t / o.cut_frac : 1.0 - (t - o.cut_frac) / (1.0 - o.cut_frac);
    return {o.lr * (1.0 + p * (o.ratio - 1.0)) / o.ratio, o.beta1};
  }
  if (o.kind == "warmup_cosine") {
    if (o.warmup > 0 && t < o.warmup) return {o.lr * t / o.warmup, o.beta1};
    const double f = o.warmup >= 1.0 ? 1.0 : (t - o.warmup) / (1.0 - o.warmup);
    return {cosine(o.lr, 0.0, f), o.beta1};
  }
  throw Error("unknown schedule '" + o.kind +
              "' (expected one_cycle, slanted_triangular, warmup_cosine or constant)");
}

}  // namespace genolm::train
