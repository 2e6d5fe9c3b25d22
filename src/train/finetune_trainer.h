#pragma once
// Fine-tuning with ULMFiT's recipe: a pooling head on a (pretrained) encoder, trained in stages of
// gradual unfreezing (head first, then one more layer group per stage, then everything), with
// discriminative learning rates (each lower group at the rate of the one above / lr_div) and a
// one-cycle schedule per stage. Valid metrics every epoch, the best epoch's weights kept in
// classifier.safetensors, optional early stopping, test metrics and predictions at the end. The loop keeps
// only what is its own (epochs, stages, evaluation); the rest of a run is the session's
// (train/session.h), the task's kind is the task's (task/task.h).

#include <functional>

#include "config/recipe.h"
#include "run/run_layout.h"
#include "task/finetune_data.h"
#include "train/encoder_start.h"
#include "train/loss_probe.h"
#include "train/session.h"

namespace genolm::train {

struct FinetuneRun {
  RunContext context;
  const task::FinetuneData* data = nullptr;
  const EncoderStart* start = nullptr;
};

// Throws genolm::Error on inconsistent stages or a checkpoint that cannot be read.
RunOutcome finetune(const FinetuneRun& run);

// For the learning-rate finder (train/lr_find_trainer.h): the classifier as finetune starts it
// (seeded with run.seed, on train.device) with every layer group trainable, its training batches
// (epoch after epoch of the run's plan) and its loss, handed to `use`; nothing is written. Each
// group's rate is the top group's / lr_div per group below, as in the run's last stage;
// finetune.grad_clip and train.weight_decay as the run applies them.
void probe_classifier(const FinetuneRun& run, const std::function<void(LossProbe&)>& use);

}  // namespace genolm::train
