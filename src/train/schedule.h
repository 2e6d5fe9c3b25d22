#pragma once
// Learning-rate (and momentum) schedules as pure functions of the step, so a resumed run needs
// nothing but its step to continue the schedule exactly.
//   one_cycle           fastai's fit_one_cycle: cosine warm-up from lr/25 to lr over the first 25%
//                       of steps, cosine annealing to lr/1e5; momentum (AdamW's beta1) 0.95 ->
//                       0.85 -> 0.95 in mirror image.
//   slanted_triangular  ULMFiT's schedule: linear rise over the first 10% of steps from lr/32 to
//                       lr, then linear decay back to lr/32.
//   warmup_cosine       linear warm-up over `warmup` of the steps, then cosine decay to 0.
//   constant            lr throughout.

#include <cstdint>
#include <string>

namespace genolm::train {

struct ScheduleOptions {
  std::string kind = "one_cycle";
  double lr = 2e-3;
  std::int64_t total_steps = 1;
  double warmup = 0.05;     // warmup_cosine
  double beta1 = 0.9;       // for schedules that leave momentum alone
  double pct_start = 0.25;  // one_cycle
  double div = 25.0;        // one_cycle: starting lr is lr/div
  double div_final = 1e5;   // one_cycle: final lr is lr/div_final
  double moms_high = 0.95;  // one_cycle momentum range
  double moms_low = 0.85;
  double cut_frac = 0.1;  // slanted_triangular
  double ratio = 32.0;    // slanted_triangular
};

struct ScheduleValue {
  double lr;
  double beta1;
};

// Value for optimizer step `step` (0-based); steps past the end keep the last value. Throws
// genolm::Error for an unknown kind.
ScheduleValue schedule_at(const ScheduleOptions& options, std::int64_t step);

}  // namespace genolm::train
