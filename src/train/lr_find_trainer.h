#pragma once
// The learning-rate finder on a real model: the sweep of train/lr_finder.h, each step one batch of
// the probe's model (train/loss_probe.h) under AdamW at the step's rate.

#include "train/loss_probe.h"
#include "train/lr_finder.h"

namespace genolm::train {

// AdamW as training builds it (fastai's betas 0.9 and 0.99, eps 1e-5, the probe's weight decay)
// over the probe's groups, each at its relative rate times the step's; AdamW's beta1 stays at 0.9
// (the finder schedules the rate alone); gradients clipped as the loop clips. Logs every tenth
// step. The model's weights are left as the sweep leaves them: throw it away.
LrCurve find_learning_rate(LossProbe& probe, const LrFindOptions& options);

}  // namespace genolm::train
