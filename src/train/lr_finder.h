#pragma once
// fastai's learning-rate finder (after Smith, "Cyclical learning rates", 2017) as pure functions:
// train a few mini-batches with the rate growing exponentially, smooth the loss, stop once it
// diverges, and read a rate off the curve. The sweep takes the training step as a function, so
// these rules hold (and are tested) without a model; train/lr_find_trainer.h drives a real one.
//
// Where genolm differs from fastai, on purpose:
//   - the rates run from start_lr at the first step to end_lr at the last (fastai stops one step
//     short of end_lr);
//   - a loss that is not finite ends the sweep at once.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace genolm::train {

struct LrFindOptions {
  std::int64_t steps = 100;  // mini-batches at most
  double start_lr = 1e-7;
  double end_lr = 10;
  double beta = 0.98;     // the loss's smoothing (an exponential moving average)
  double divergence = 4;  // stop once the smoothed loss exceeds this many times its minimum
};

// Throws genolm::Error naming the flag for options that make no sweep: fewer than 2 steps, a
// start_lr that is not positive, an end_lr not above it, beta outside [0, 1), divergence <= 1.
void check_lr_find_options(const LrFindOptions& options);

// The rate of step `step` (0-based): start_lr * (end_lr / start_lr)^(step / (steps - 1)).
double lr_at(const LrFindOptions& options, std::int64_t step);

// fastai's smoothing: avg_i = beta * avg_(i-1) + (1 - beta) * loss_i from avg_(-1) = 0, divided by
// (1 - beta^(i+1)) so that the first values are not pulled towards 0 (the bias correction).
class LossSmoother {
 public:
  explicit LossSmoother(double beta) : beta_(beta) {}
  // The smoothed loss after `loss`.
  double add(double loss);

 private:
  double beta_;
  double average_ = 0;
  double beta_power_ = 1;  // beta^(losses added)
};

std::vector<double> smooth_losses(const std::vector<double>& losses, double beta);

struct LrCurve {
  std::vector<double> lrs, losses, smoothed;  // one entry per step taken
  // The sweep stopped because the smoothed loss passed `divergence` times its minimum so far (or
  // was not finite), before taking every step.
  bool diverged = false;

  std::size_t size() const { return lrs.size(); }
};

// Calls train_step(rate) once per step, each at lr_at(step), and records the loss it returns.
// Stops after options.steps steps, or after the step whose smoothed loss is not finite or exceeds
// options.divergence times the lowest smoothed loss so far (that step is recorded, as fastai does).
LrCurve sweep_learning_rates(const LrFindOptions& options,
                             const std::function<double(double lr)>& train_step);

// A point of the curve a rule picks, and the rate it suggests there.
struct LrPick {
  std::size_t step = 0;  // index into the curve
  double lr = 0;
};

struct LrSuggestions {
  // fastai's default since 2.5: the longest valley. Take the longest strictly decreasing sequence
  // of smoothed losses (its points need not be adjacent; the first such to end wins); with `end`
  // its last point and `len` its number of points, start = end - len and the pick is
  // start + floor((end - start) / 3) + floor((end - start) / 6), clamped to the curve: a bit past
  // a third of the way down the valley.
  LrPick valley;
  // The steepest descent: the left end of the segment whose slope d(loss) / d(ln lr) is lowest.
  LrPick steep;
  // The lowest smoothed loss; its rate / 10 is the suggestion (fastai's "minimum").
  LrPick minimum;
  // The part of the curve the rules read: [first, last).
  std::size_t first = 0, last = 0;
};

// The three rules on the smoothed losses, read as fastai reads them: without the first
// requested_steps / 10 points (the loss barely moves there, and the average is still young) and
// the last 5 (where the loss diverges); on the whole curve when fewer than 2 points would be left;
// and only up to the first smoothed loss that is not finite. Nothing when fewer than 2 points
// remain.
std::optional<LrSuggestions> suggest_learning_rates(const LrCurve& curve,
                                                    std::int64_t requested_steps);

}  // namespace genolm::train
