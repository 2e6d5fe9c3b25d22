#pragma once
// Fine-tuning's early stopping. Patience counts the epochs in which neither the valid metric
// (which picks the epoch kept) nor the valid loss improved. Watching the metric alone stops a run
// from scratch before it starts: at the class prior its MCC is 0 epoch after epoch while its loss
// still falls (E. coli promoters stopped at epoch 6 that way; bench/RESULTS.md).

#include "train/checkpoint.h"

namespace genolm::train {

struct ValidProgress {
  bool metric_improved = false;  // a new best epoch: its weights become the model
  bool loss_fell = false;        // the lowest valid loss so far
};

// Records one epoch's valid figures in `state` (best epoch aside, which the caller keeps): the
// lowest loss and the count of epochs without progress. A value that is not finite is no progress.
ValidProgress record_valid_epoch(TrainingState& state, bool metric_improved, double valid_loss);

// Whether `patience` epochs in a row made no progress (patience 0: never).
bool patience_exhausted(const TrainingState& state, std::int64_t patience);

}  // namespace genolm::train
