#include "train/lr_finder.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "genolm/error.h"

namespace genolm::train {
namespace {

std::string text(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

// Index of the first smallest value of values[first, last).
std::size_t first_minimum(const std::vector<double>& values, std::size_t first, std::size_t last) {
  std::size_t best = first;
  for (std::size_t i = first + 1; i < last; ++i)
    if (values[i] < values[best]) best = i;
  return best;
}

// fastai's "valley" on values[first, last): see LrSuggestions::valley.
std::size_t valley(const std::vector<double>& values, std::size_t first, std::size_t last) {
  const std::size_t n = last - first;
  // longest[i]: points in the longest strictly decreasing sequence that ends at point i.
  std::vector<std::size_t> longest(n, 1);
  std::size_t end = 0;
  for (std::size_t i = 1; i < n; ++i) {
    for (std::size_t j = 0; j < i; ++j)
      if (values[first + i] < values[first + j]) longest[i] = std::max(longest[i], longest[j] + 1);
    if (longest[i] > longest[end]) end = i;
  }
  // start = end - longest[end] may be -1 (a sequence from the first point): signed arithmetic.
  const auto start = static_cast<std::int64_t>(end) - static_cast<std::int64_t>(longest[end]);
  const std::int64_t span = static_cast<std::int64_t>(end) - start;
  const std::int64_t pick = start + span / 3 + span / 6;
  return first + static_cast<std::size_t>(
                     std::clamp<std::int64_t>(pick, 0, static_cast<std::int64_t>(n) - 1));
}

// The left end of the segment of lowest slope d(value) / d(ln lr) in [first, last).
std::size_t steepest(const std::vector<double>& lrs, const std::vector<double>& values,
                     std::size_t first, std::size_t last) {
  std::size_t best = first;
  double best_slope = std::numeric_limits<double>::infinity();
  for (std::size_t i = first; i + 1 < last; ++i) {
    const double slope = (values[i + 1] - values[i]) / (std::log(lrs[i + 1]) - std::log(lrs[i]));
    if (slope < best_slope) {
      best_slope = slope;
      best = i;
    }
  }
  return best;
}

}  // namespace

void check_lr_find_options(const LrFindOptions& options) {
  if (options.steps < 2) {
    throw Error("--steps " + std::to_string(options.steps) +
                ": the learning-rate finder needs at least 2 steps");
  }
  if (!(options.start_lr > 0) || !std::isfinite(options.start_lr)) {
    throw Error("--start-lr " + text(options.start_lr) + ": expected a positive rate");
  }
  if (!(options.end_lr > options.start_lr) || !std::isfinite(options.end_lr)) {
    throw Error("--end-lr " + text(options.end_lr) + ": expected a rate above --start-lr " +
                text(options.start_lr));
  }
  if (!(options.beta >= 0 && options.beta < 1)) {
    throw Error("the loss smoothing " + text(options.beta) + " must lie in [0, 1)");
  }
  if (!(options.divergence > 1)) {
    throw Error("the divergence factor " + text(options.divergence) + " must exceed 1");
  }
}

double lr_at(const LrFindOptions& options, std::int64_t step) {
  const double fraction = static_cast<double>(step) / static_cast<double>(options.steps - 1);
  return options.start_lr * std::pow(options.end_lr / options.start_lr, fraction);
}

double LossSmoother::add(double loss) {
  average_ = beta_ * average_ + (1 - beta_) * loss;
  beta_power_ *= beta_;
  return average_ / (1 - beta_power_);
}

std::vector<double> smooth_losses(const std::vector<double>& losses, double beta) {
  LossSmoother smoother(beta);
  std::vector<double> smoothed;
  smoothed.reserve(losses.size());
  for (const double loss : losses)
    smoothed.push_back(smoother.add(loss));
  return smoothed;
}

LrCurve sweep_learning_rates(const LrFindOptions& options,
                             const std::function<double(double lr)>& train_step) {
  check_lr_find_options(options);
  LrCurve curve;
  LossSmoother smoother(options.beta);
  double lowest = std::numeric_limits<double>::infinity();
  for (std::int64_t step = 0; step < options.steps; ++step) {
    const double lr = lr_at(options, step);
    const double loss = train_step(lr);
    const double smoothed = smoother.add(loss);
    curve.lrs.push_back(lr);
    curve.losses.push_back(loss);
    curve.smoothed.push_back(smoothed);
    lowest = std::min(lowest, smoothed);
    if (!std::isfinite(smoothed) || smoothed > options.divergence * lowest) {
      curve.diverged = step + 1 < options.steps;
      break;
    }
  }
  return curve;
}

std::optional<LrSuggestions> suggest_learning_rates(const LrCurve& curve,
                                                    std::int64_t requested_steps) {
  const std::size_t n = curve.size();
  std::size_t first = static_cast<std::size_t>(std::max<std::int64_t>(0, requested_steps / 10));
  std::size_t last = n >= 5 ? n - 5 : 0;
  if (last < first + 2) {
    first = 0;
    last = n;
  }
  for (std::size_t i = first; i < last; ++i) {
    if (!std::isfinite(curve.smoothed[i])) {
      last = i;
      break;
    }
  }
  if (last < first + 2) return std::nullopt;
  LrSuggestions s;
  s.first = first;
  s.last = last;
  const std::size_t v = valley(curve.smoothed, first, last);
  const std::size_t steep = steepest(curve.lrs, curve.smoothed, first, last);
  const std::size_t low = first_minimum(curve.smoothed, first, last);
  s.valley = {.step = v, .lr = curve.lrs[v]};
  s.steep = {.step = steep, .lr = curve.lrs[steep]};
  s.minimum = {.step = low, .lr = curve.lrs[low] / 10};
  return s;
}

}  // namespace genolm::train
