#include "train/session.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "genolm/error.h"
#include "report/report_html.h"
#include "train/rank_state.h"
#include "util/files.h"
#include "util/heap.h"
#include "util/log.h"

namespace genolm::train {

SessionOptions SessionOptions::from_recipe(const config::Recipe& recipe,
                                           std::string divergence_hint) {
  SessionOptions options;
  options.seed = static_cast<std::uint64_t>(recipe.integer("run.seed"));
  options.device = recipe.string("train.device");
  options.bucket_mb = recipe.number("dist.bucket_mb");
  options.keep_checkpoints = static_cast<int>(recipe.integer("train.keep_checkpoints"));
  options.grad_clip = recipe.number("train.grad_clip");
  options.weight_decay = recipe.number("train.weight_decay");
  options.log_every = recipe.integer("train.log_every");
  options.checkpoint_every = recipe.integer("train.checkpoint_every");
  options.bf16 = recipe.string("train.precision") == "bf16";
  options.divergence_hint = std::move(divergence_hint);
  return options;
}

double LogWindow::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
double LogWindow::tokens_per_s() const {
  const double s = seconds();
  return s > 0 ? static_cast<double>(tokens) / s : 0.0;
}
double LogWindow::examples_per_s() const {
  const double s = seconds();
  return s > 0 ? static_cast<double>(examples) / s : 0.0;
}

TrainingSession::TrainingSession(const RunContext& context, SessionOptions options,
                                 const std::string& area)
    : layout_(context.layout),
      resume_requested_(context.resume),
      options_(std::move(options)),
      comm_(&job_communicator(context.comm)),
      area_(area) {
  torch::manual_seed(options_.seed);
  state_.world_size = comm_->size();
}

void TrainingSession::attach(torch::nn::Module& model,
                             const std::vector<std::vector<torch::Tensor>>& groups,
                             double initial_lr) {
  model_ = &model;
  device_ = move_to_rank_device(model, options_.device, *comm_);
  keep_freed_memory_in_heap();  // every step frees and reallocates the same tensors
  parameters_ = model.parameters();
  for (const auto& p : parameters_)
    parameter_count_ += p.numel();
  share_initial_weights(model, *comm_, options_.seed);
  reducer_ = std::make_unique<dist::GradientReducer>(
      parameters_, *comm_, static_cast<std::size_t>(options_.bucket_mb * (1 << 20)));
  std::vector<torch::optim::OptimizerParamGroup> param_groups;
  for (const auto& group : groups) {
    param_groups.emplace_back(group, std::make_unique<torch::optim::AdamWOptions>(
                                         torch::optim::AdamWOptions(initial_lr)
                                             .betas({0.9, 0.99})
                                             .eps(1e-5)
                                             .weight_decay(options_.weight_decay)));
  }
  optimizer_ = std::make_unique<FusedAdamW>(std::move(param_groups));
  checkpoints_ =
      std::make_unique<Checkpoints>(layout_.rank_checkpoints(rank()), options_.keep_checkpoints);
}

bool TrainingSession::resume() {
  bool resumed = false;
  if (resume_requested_) {
    if (const auto latest =
            resume_every_rank(*checkpoints_, *model_, *optimizer_, *comm_, layout_.dir(), state_)) {
      log(area_)->info("resumed from {} at step {}", latest->string(), state_.step);
      resumed = true;
    } else {
      // Saved weights without a checkpoint (deleted, or another disk's): starting over would
      // overwrite them. A run killed before its first checkpoint saved none, and starts over.
      bool saved_weights = false;
      for (const auto& file : {layout_.encoder_weights(), layout_.language_model_weights(),
                               layout_.classifier_weights()}) {
        if (writer() && run::existing_weights(file)) saved_weights = true;
      }
      if (comm_->all_reduce_sum(saved_weights ? 1.0 : 0.0) > 0) {
        throw Error("cannot resume " + layout_.dir().string() + ": " +
                    layout_.checkpoints().string() +
                    " holds no checkpoint to continue from, and starting over would overwrite "
                    "the weights it saved (start a new run under another run.name)");
      }
      log(area_)->warn("no checkpoint in {}: starting from step 0", layout_.checkpoints().string());
    }
  }
  wall_before_ = state_.wall_seconds;
  session_start_ = std::chrono::steady_clock::now();
  if (writer()) {
    report::truncate_metrics_after(layout_.metrics(), state_.step);
    metrics_.emplace(layout_.metrics());
  }
  return resumed;
}

void TrainingSession::write_run_info(const nlohmann::json& encoder_description,
                                     const nlohmann::json& own_fields, std::int64_t total_steps) {
  run_info_ = {{"name", layout_.name()},
               {"status", "running"},
               {"model",
                {{"arch", encoder_description.at("arch")},
                 {"parameters", parameter_count_},
                 {"encoder", encoder_description}}},
               {"total_steps", total_steps},
               {"threads", at::get_num_threads()},
               {"ranks", ranks()},
               {"device", device_.str()},
               {"started", utc_now_text()},
               {"genolm_version", GENOLM_VERSION}};
  run_info_.update(own_fields, /*merge_objects=*/true);
  if (writer()) write_json_atomically(layout_.run_json(), run_info_);
  // Ranks other than 0 draw no bar: it starts at the end.
  progress_ = std::make_unique<ProgressBar>(total_steps, writer() ? state_.step : total_steps);
  window_.restart();
}

void TrainingSession::write_model_card(const run::ModelCard& card) const {
  if (writer()) run::write_model_card(layout_.model_card(), card);
}

void TrainingSession::set_learning_rates(const std::vector<double>& rates, double beta1) {
  auto& groups = optimizer_->param_groups();
  if (rates.size() != groups.size()) {
    throw Error("internal: " + std::to_string(rates.size()) + " learning rates for " +
                std::to_string(groups.size()) + " parameter groups");
  }
  for (std::size_t g = 0; g < groups.size(); ++g) {
    auto& options = static_cast<torch::optim::AdamWOptions&>(groups[g].options());
    options.lr(rates[g]);
    options.betas({beta1, 0.99});
  }
}

StepResult TrainingSession::finish_step(double local_loss, std::uint64_t tokens,
                                        std::uint64_t examples) {
  reducer_->finish();
  StepResult result;
  result.loss = local_loss;
  if (ranks() > 1) {
    // The global batch's loss, and a stop that every rank agrees on (a signal may reach one).
    std::vector<torch::Tensor> shared = {
        torch::tensor({local_loss, StopOnSignals::requested() != 0 ? 1.0 : 0.0}, torch::kDouble)};
    comm_->all_reduce_sum(shared);
    result.loss = shared[0][0].item<double>() / ranks();
    result.stop = shared[0][1].item<double>() > 0;
  } else {
    result.stop = StopOnSignals::requested() != 0;
  }
  const double max_norm =
      options_.grad_clip > 0 ? options_.grad_clip : std::numeric_limits<double>::infinity();
  result.grad_norm = torch::nn::utils::clip_grad_norm_(parameters_, max_norm);
  optimizer_->step();
  optimizer_->zero_grad();
  ++state_.step;
  if (!std::isfinite(result.loss)) {
    throw Error("the training loss became " + std::to_string(result.loss) + " at step " +
                std::to_string(state_.step) + " (" + options_.divergence_hint + ", or use fp32)");
  }
  const auto world = static_cast<std::uint64_t>(ranks());
  state_.tokens += tokens * world;
  window_.loss_sum += result.loss;
  ++window_.steps;
  window_.tokens += tokens * world;
  window_.examples += examples * world;
  return result;
}

void TrainingSession::update_progress() {
  if (!progress_) throw Error("internal: a step before the session's write_run_info()");
  if (writer()) progress_->update(state_.step, window_.mean_loss(), window_.tokens_per_s());
}

void TrainingSession::log_train_row(double lr, double grad_norm, const nlohmann::json& own_fields,
                                    const std::string& line) {
  nlohmann::json row = {{"step", state_.step},
                        {"split", "train"},
                        {"loss", window_.mean_loss()},
                        {"lr", lr},
                        {"grad_norm", grad_norm},
                        {"wall_s", wall_seconds()},
                        {"tokens_per_s", window_.tokens_per_s()}};
  row.update(own_fields);
  append_metrics(row);
  // Off a terminal each line says how far the run is; on one the bar does, and train.log still
  // gets every line.
  const std::string with_position = line + "  " + progress_->position_text(state_.step);
  if (writer() && progress_->active())
    log_file_only(area_)->info("{}", with_position);
  else
    log(area_)->info("{}", with_position);
  window_.restart();
}

void TrainingSession::append_metrics(const nlohmann::json& row) {
  if (!writer()) return;
  if (!metrics_) throw Error("internal: metrics logged before the session's resume()");
  metrics_->append(row);
}

void TrainingSession::save_checkpoint() {
  state_.wall_seconds = wall_seconds();
  checkpoints_->save(*model_, *optimizer_, state_);
}

bool TrainingSession::agree(bool local) {
  if (ranks() == 1) return local;
  return comm_->all_reduce_sum(local ? 1.0 : 0.0) > 0;
}

void TrainingSession::finish(const char* status) {
  if (!writer()) return;
  run_info_["status"] = status;
  run_info_["last_step"] = state_.step;
  write_json_atomically(layout_.run_json(), run_info_);
  report::write_run_report(layout_.dir());
}

RunOutcome TrainingSession::interrupted() {
  progress_->finish();
  finish("interrupted");
  log(area_)->warn("stopped by a signal at step {}: checkpoint saved; continue with --resume",
                   state_.step);
  return RunOutcome::interrupted;
}

double TrainingSession::wall_seconds() const {
  return wall_before_ +
         std::chrono::duration<double>(std::chrono::steady_clock::now() - session_start_).count();
}

}  // namespace genolm::train
