#include "train/early_stopping.h"

#include <cmath>

namespace genolm::train {

ValidProgress record_valid_epoch(TrainingState& state, bool metric_improved, double valid_loss) {
  ValidProgress progress{.metric_improved = metric_improved, .loss_fell = false};
  if (std::isfinite(valid_loss) &&
      (!state.lowest_valid_loss || valid_loss < *state.lowest_valid_loss)) {
    state.lowest_valid_loss = valid_loss;
    progress.loss_fell = true;
  }
  if (progress.metric_improved || progress.loss_fell) {
    state.without_improvement = 0;
  } else {
    ++state.without_improvement;
  }
  return progress;
}

bool patience_exhausted(const TrainingState& state, std::int64_t patience) {
  return patience > 0 && state.without_improvement >= patience;
}

}  // namespace genolm::train
