#pragma once
// What every genolm training run does, whatever it trains: one rank of a data-parallel job (a
// single process is a job of one) on its device, starting from rank 0's weights, with AdamW over
// parameter groups, checkpoints that resume exactly, the optimizer step (gradients averaged over
// ranks, clipped, applied), a loss and a stop that every rank agrees on, the logging window and
// metrics rows, SIGINT/SIGTERM, run.json's status and the run report. Rank 0 alone writes the run
// folder.
//
// A loop (lm_trainer.cpp, finetune_trainer.cpp) keeps only what is its own: batches and losses,
// stages, evaluation. Its step reads as named calls:
//
//   session.set_learning_rates(rates, beta1);
//   session.prepare_backward(last_micro_batch);  loss.backward();
//   const StepResult step = session.finish_step(loss_value, tokens, examples);
//   if (session.log_due(...)) session.log_train_row(...);
//   if (session.checkpoint_due(...)) session.save_checkpoint();

#include <torch/nn/module.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/recipe.h"
#include "dist/communicator.h"
#include "dist/gradient_reducer.h"
#include "report/metrics_log.h"
#include "run/model_card.h"
#include "run/run_layout.h"
#include "train/checkpoint.h"
#include "train/fused_adamw.h"
#include "train/progress.h"
#include "train/stop_signals.h"

namespace genolm::train {

enum class RunOutcome { finished, interrupted };

// What a command hands a training loop about the run itself.
struct RunContext {
  run::RunLayout layout;
  const config::Recipe* recipe = nullptr;
  bool resume = false;  // continue from the newest checkpoint
  // The data-parallel job this process is a rank of; null: a single process.
  dist::Communicator* comm = nullptr;
};

// The recipe keys every training run reads, typed once.
struct SessionOptions {
  std::uint64_t seed = 0;
  std::string device;  // train.device: auto, cpu or cuda
  double bucket_mb = 0;
  int keep_checkpoints = 0;
  double grad_clip = 0;  // 0: none
  double weight_decay = 0;
  std::int64_t log_every = 0;
  std::int64_t checkpoint_every = 0;
  bool bf16 = false;
  // What to suggest when the loss diverges ("lower train.lr").
  std::string divergence_hint;

  static SessionOptions from_recipe(const config::Recipe& recipe, std::string divergence_hint);
};

// The result of one optimizer step, the same on every rank.
struct StepResult {
  double loss = 0;       // mean over ranks
  double grad_norm = 0;  // before clipping
  bool stop = false;     // a signal reached some rank: stop after this step
};

// What a logging window has seen since its last row.
struct LogWindow {
  double loss_sum = 0;
  std::int64_t steps = 0;
  std::uint64_t tokens = 0, examples = 0;  // over every rank
  double load_seconds = 0;                 // the loader's own time
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();

  double seconds() const;
  double mean_loss() const { return steps > 0 ? loss_sum / static_cast<double>(steps) : 0.0; }
  double tokens_per_s() const;
  double examples_per_s() const;
  void restart() { *this = LogWindow{}; }
};

class TrainingSession {
 public:
  // Seeds the global generator (before any model is built) and joins the run's job (a single
  // process when it has none). `area` tags log lines ("train", "finetune").
  TrainingSession(const RunContext& context, SessionOptions options, const std::string& area);

  // Puts `model` on this rank's device, starts every rank from rank 0's weights, builds the
  // gradient reducer and AdamW with one parameter group per entry of `groups` (fastai's betas
  // and eps; the rates are set every step).
  void attach(torch::nn::Module& model, const std::vector<std::vector<torch::Tensor>>& groups,
              double initial_lr);
  // When the run resumes, loads every rank's newest checkpoint (the same step on every rank, under
  // the world size the run had); then opens the metrics log, cut after the resumed step. Returns
  // whether a checkpoint was loaded.
  bool resume();
  // Writes run.json: what every run records (status, sizes, the model: its architecture,
  // parameter count and encoder description), with the loop's own fields merged in (objects
  // merge key by key). Later calls to finish() rewrite it with the status; run_info() may be
  // updated in between. Starts the progress bar.
  void write_run_info(const nlohmann::json& encoder_description, const nlohmann::json& own_fields,
                      std::int64_t total_steps);
  void write_model_card(const run::ModelCard& card) const;

  // --- the step ---
  void set_learning_rates(const std::vector<double>& rates, double beta1);
  // Before each backward: gradients are averaged over ranks on the last micro-batch only,
  // overlapping backward.
  void prepare_backward(bool last_micro_batch) { reducer_->prepare(last_micro_batch); }
  // After the last backward: finishes the gradient average, agrees on the loss and on stopping,
  // clips, applies and clears the gradients, counts the step and its `tokens` and `examples`
  // (this rank's), and throws genolm::Error if the loss diverged.
  StepResult finish_step(double local_loss, std::uint64_t tokens, std::uint64_t examples);

  // --- logging and checkpoints ---
  bool log_due(bool end_of_period) const {
    return writer() && (state_.step % options_.log_every == 0 || end_of_period);
  }
  // The train row every loop writes (step, loss, lr, grad_norm, wall_s, tokens_per_s) with the
  // loop's own fields; logs `line` when no progress bar shows; restarts the window.
  void log_train_row(double lr, double grad_norm, const nlohmann::json& own_fields,
                     const std::string& line);
  void append_metrics(const nlohmann::json& row);
  void update_progress();
  bool checkpoint_due() const { return state_.step % options_.checkpoint_every == 0; }
  void save_checkpoint();
  // Every rank's answer to `local` (rank 0 decides for all).
  bool agree(bool local);

  // Rewrites run.json with `status` and the last step, then the report (rank 0).
  void finish(const char* status);
  // A signal stopped the run (after the loop saved its checkpoint): status, report, a warning.
  RunOutcome interrupted();

  // --- accessors ---
  const run::RunLayout& layout() const { return layout_; }
  const SessionOptions& options() const { return options_; }
  const torch::Device& device() const { return device_; }
  dist::Communicator& comm() { return *comm_; }
  int rank() const { return comm_->rank(); }
  int ranks() const { return comm_->size(); }
  bool writer() const { return comm_->rank() == 0; }
  TrainingState& state() { return state_; }
  FusedAdamW& optimizer() { return *optimizer_; }
  LogWindow& window() { return window_; }
  ProgressBar& progress() { return *progress_; }
  nlohmann::json& run_info() { return run_info_; }
  std::int64_t parameter_count() const { return parameter_count_; }
  // Training time over every session of the run.
  double wall_seconds() const;

 private:
  run::RunLayout layout_;
  bool resume_requested_ = false;
  SessionOptions options_;
  dist::Communicator* comm_;
  std::string area_;
  torch::Device device_ = torch::kCPU;
  torch::nn::Module* model_ = nullptr;
  std::vector<torch::Tensor> parameters_;
  std::int64_t parameter_count_ = 0;
  std::unique_ptr<dist::GradientReducer> reducer_;
  std::unique_ptr<FusedAdamW> optimizer_;
  std::unique_ptr<Checkpoints> checkpoints_;
  std::optional<report::MetricsLog> metrics_;
  std::unique_ptr<ProgressBar> progress_;
  StopOnSignals signals_;
  TrainingState state_;
  LogWindow window_;
  nlohmann::json run_info_;
  std::chrono::steady_clock::time_point session_start_ = std::chrono::steady_clock::now();
  double wall_before_ = 0;
};

}  // namespace genolm::train
