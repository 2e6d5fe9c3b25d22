#include "train/lm_trainer.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <optional>
#include <random>
#include <sstream>

#include "data/lm_stream.h"
#include "dist/communicator.h"
#include "dist/gradient_reducer.h"
#include "genolm/error.h"
#include "models/model_factory.h"
#include "report/metrics_log.h"
#include "report/report_html.h"
#include "train/checkpoint.h"
#include "train/fused_adamw.h"
#include "train/module_file.h"
#include "train/precision.h"
#include "train/progress.h"
#include "train/rank_state.h"
#include "train/schedule.h"
#include "train/stop_signals.h"
#include "util/files.h"
#include "util/heap.h"
#include "util/log.h"

namespace genolm::train {
namespace {

struct Settings {
  std::string arch;
  bool bf16 = false;
  std::int64_t batch = 0;
  std::int64_t bptt = 0;
  std::int64_t context = 0;
  bool random_bptt = true;
  bool random_windows = false;
  bool backward = false;
  std::int64_t accumulate = 1;
  std::int64_t epochs = 1;
  std::int64_t max_steps = 0;
  double grad_clip = 0;
  std::int64_t log_every = 50, eval_every = 1000, checkpoint_every = 1000;
  std::int64_t eval_tokens = 0;
  std::uint64_t seed = 42;

  explicit Settings(const config::Recipe& r)
      : arch(r.string("model.arch")),
        bf16(r.string("train.precision") == "bf16"),
        batch(r.integer("train.batch_size")),
        bptt(r.integer("train.bptt")),
        context(r.integer("model.context")),
        random_bptt(r.boolean("train.random_bptt")),
        random_windows(r.string("train.windows") == "random"),
        backward(r.boolean("data.backward")),
        accumulate(r.integer("train.accumulate")),
        epochs(r.integer("train.epochs")),
        max_steps(r.integer("train.max_steps")),
        grad_clip(r.number("train.grad_clip")),
        log_every(r.integer("train.log_every")),
        eval_every(r.integer("train.eval_every")),
        checkpoint_every(r.integer("train.checkpoint_every")),
        eval_tokens(r.integer("train.eval_tokens")),
        seed(static_cast<std::uint64_t>(r.integer("run.seed"))) {}

  bool recurrent() const { return arch == "awd_lstm"; }
  std::int64_t window() const { return recurrent() ? bptt : context; }
};

struct Evaluation {
  double loss = 0;
  double accuracy = 0;
  std::uint64_t tokens = 0;
};

// The loader's ids as a tensor on the model's device (the CPU: no copy).
torch::Tensor as_tensor(std::vector<std::int64_t>& values, std::int64_t rows, std::int64_t steps,
                        const torch::Device& device) {
  return torch::from_blob(values.data(), {rows, steps}, torch::kLong).to(device);
}

// Next-token loss and accuracy on (the first eval_tokens of) the valid split, with dropout off and
// the training state of the encoder put back afterwards. It draws no random numbers, so evaluating
// more or less often never changes the training that follows.
Evaluation evaluate(models::LanguageModel& model, const data::TokenSplit& valid,
                    const Settings& settings, const torch::Device& device) {
  Evaluation result;
  const std::uint64_t window = static_cast<std::uint64_t>(settings.window());
  const std::int64_t rows = static_cast<std::int64_t>(
      std::clamp<std::uint64_t>(valid.size() / (window + 1), 1, settings.batch));
  if (valid.size() < 2) return result;
  auto& encoder = *model.encoder();
  const auto saved = encoder.state();
  encoder.reset();
  model.eval();
  {
    torch::NoGradGuard no_grad;
    Bf16Autocast autocast(settings.bf16 && !settings.recurrent(), device.type());
    data::LmStream stream(valid, rows, settings.backward);
    data::LmBatch batch;
    double loss_sum = 0;
    double correct = 0;
    const auto limit = static_cast<std::uint64_t>(settings.eval_tokens);
    while ((limit == 0 || result.tokens < limit) &&
           stream.next(static_cast<std::int64_t>(window), batch)) {
      const auto loss = model.loss(as_tensor(batch.inputs, batch.rows, batch.steps, device),
                                   as_tensor(batch.targets, batch.rows, batch.steps, device));
      const auto count = static_cast<std::uint64_t>(batch.rows * batch.steps);
      loss_sum += loss.cross_entropy.item<double>() * static_cast<double>(count);
      correct += loss.correct.item<double>();
      result.tokens += count;
      if (!settings.recurrent()) encoder.reset();
    }
    if (result.tokens > 0) {
      result.loss = loss_sum / static_cast<double>(result.tokens);
      result.accuracy = correct / static_cast<double>(result.tokens);
    }
  }
  model.train();
  encoder.set_state(saved);
  return result;
}

std::int64_t steps_per_epoch(const data::LmStream& stream, const Settings& settings) {
  const auto batches = static_cast<std::int64_t>((stream.stream_length() - 1) /
                                                 static_cast<std::uint64_t>(settings.window()));
  return std::max<std::int64_t>(1, batches / settings.accumulate);
}

}  // namespace

RunOutcome train_language_model(const PretrainRun& run) {
  const auto logger = log("train");
  const config::Recipe& recipe = *run.recipe;
  const Settings settings(recipe);
  torch::manual_seed(settings.seed);

  auto encoder = models::make_encoder(run.encoder);
  encoder->set_bf16(settings.bf16 && settings.recurrent());
  auto model = models::make_language_model(encoder, run.encoder, recipe.number("train.ar_alpha"),
                                           recipe.number("train.tar_beta"));
  model->train();
  dist::Communicator& comm = job_communicator(run.comm);
  const torch::Device device = move_to_rank_device(*model, recipe.string("train.device"), comm);
  keep_freed_memory_in_heap();  // every step frees and reallocates the same tensors
  std::int64_t parameter_count = 0;
  for (const auto& p : model->parameters())
    parameter_count += p.numel();

  // Data parallel: every rank starts from rank 0's weights and reads its own rows of the global
  // batch; rank 0 alone evaluates and writes the run folder.
  const int rank = comm.rank(), ranks = comm.size();
  const bool writer = rank == 0;
  if (settings.batch % ranks != 0) {
    throw Error("train.batch_size " + std::to_string(settings.batch) +
                " does not split evenly over " + std::to_string(ranks) +
                " ranks (the global batch is divided by rows)");
  }
  share_initial_weights(*model, comm, settings.seed);
  dist::GradientReducer reducer(
      model->parameters(), comm,
      static_cast<std::size_t>(recipe.number("dist.bucket_mb") * (1 << 20)));

  FusedAdamW optimizer(model->parameters(), torch::optim::AdamWOptions(recipe.number("train.lr"))
                                                .betas({0.9, 0.99})
                                                .eps(1e-5)
                                                .weight_decay(recipe.number("train.weight_decay")));

  const std::int64_t rows_per_rank = settings.batch / ranks;
  data::LmStream stream(run.corpus->train(), settings.batch, settings.backward,
                        rank * rows_per_rank, rows_per_rank);
  const std::int64_t per_epoch = steps_per_epoch(stream, settings);
  const std::int64_t total_steps = settings.max_steps > 0
                                       ? settings.max_steps
                                       : std::max<std::int64_t>(1, settings.epochs * per_epoch);
  ScheduleOptions schedule;
  schedule.kind = recipe.string("train.schedule");
  schedule.lr = recipe.number("train.lr");
  schedule.total_steps = total_steps;
  schedule.warmup = recipe.number("train.warmup");

  // Each rank checkpoints its own random states and carried LSTM state; rank 0's folder is the
  // run's, the others' sit beside it in rank-N/.
  Checkpoints checkpoints(rank_checkpoint_dir(run.dir, rank),
                          static_cast<int>(recipe.integer("train.keep_checkpoints")));
  std::mt19937_64 loader_rng(settings.seed);
  TrainingState state;
  state.extra["world_size"] = ranks;
  if (run.resume) {
    if (const auto latest =
            resume_every_rank(checkpoints, *model, optimizer, comm, run.dir, state)) {
      std::istringstream(state.loader_rng) >> loader_rng;
      stream.set_position(state.position);
      encoder->set_state(state.carried);
      logger->info("resumed from {} at step {}", latest->string(), state.step);
    } else {
      logger->warn("no checkpoint in {}: starting from step 0", (run.dir / "checkpoints").string());
    }
  }
  std::optional<report::MetricsLog> metrics;
  if (writer) {
    report::truncate_metrics_after(run.dir / "metrics.jsonl", state.step);
    metrics.emplace(run.dir / "metrics.jsonl");
  }

  nlohmann::json run_json = {
      {"name", run.dir.filename().string()},
      {"status", "running"},
      {"stride_prior",
       std::isnan(run.stride_prior) ? nlohmann::json(nullptr) : nlohmann::json(run.stride_prior)},
      {"tokenizer", run.corpus->manifest().at("tokenizer")},
      {"model",
       {{"arch", settings.arch}, {"parameters", parameter_count}, {"encoder", run.encoder}}},
      {"total_steps", total_steps},
      {"threads", at::get_num_threads()},
      {"ranks", ranks},
      {"device", device.str()},
      {"started", utc_now_text()},
      {"genolm_version", GENOLM_VERSION}};
  if (writer) {
    write_json_atomically(run.dir / "run.json", run_json);
    write_json_atomically(run.dir / "model.json",
                          {{"encoder", run.encoder}, {"task", "language_model"}});
  }
  logger->info(
      "{} with {} parameters on {}; {} steps ({} per epoch), batch {} x {} tokens, {} threads{}",
      settings.arch, parameter_count, device.str(), total_steps, per_epoch, settings.batch,
      settings.window(), at::get_num_threads(),
      ranks > 1 ? " per rank, " + std::to_string(ranks) + " ranks" : "");
  if (!std::isnan(run.stride_prior)) {
    logger->info("stride prior ln(4^stride) = {:.4f}: the loss a model must beat",
                 run.stride_prior);
  }

  auto finish_reporting = [&](const char* status) {
    if (!writer) return;
    run_json["status"] = status;
    run_json["last_step"] = state.step;
    write_json_atomically(run.dir / "run.json", run_json);
    report::write_run_report(run.dir);
  };
  auto save = [&] {
    state.position = stream.position();
    std::ostringstream rng_text;
    rng_text << loader_rng;
    state.loader_rng = rng_text.str();
    state.carried = encoder->state();
    checkpoints.save(*model, optimizer, state);
    if (!writer) return;
    // The encoder alone, for fine-tuning and embeddings (model.json describes it).
    save_module_file(*encoder, run.dir / "encoder.pt");
  };

  const StopOnSignals signals;
  ProgressBar progress(total_steps, writer ? state.step : total_steps);
  data::LmBatch batch;
  const auto parameters = model->parameters();
  double window_loss = 0;
  std::int64_t window_steps = 0;
  std::uint64_t window_tokens = 0;
  double window_load_seconds = 0;
  auto window_start = std::chrono::steady_clock::now();
  auto session_start = window_start;
  const double wall_before = state.wall_seconds;
  bool finished = state.step >= total_steps;

  bool stop = false;
  while (!finished && !stop) {
    const ScheduleValue value = schedule_at(schedule, state.step);
    for (auto& group : optimizer.param_groups()) {
      auto& options = static_cast<torch::optim::AdamWOptions&>(group.options());
      options.lr(value.lr);
      options.betas({value.beta1, 0.99});
    }
    double step_loss = 0;
    for (std::int64_t micro = 0; micro < settings.accumulate; ++micro) {
      const auto load_start = std::chrono::steady_clock::now();
      if (settings.random_windows && !settings.recurrent()) {
        stream.random_windows(settings.context, loader_rng, batch);
      } else {
        const std::int64_t steps = settings.recurrent() && settings.random_bptt
                                       ? data::random_bptt(settings.bptt, loader_rng)
                                       : settings.window();
        if (!stream.next(steps, batch)) {
          ++state.epoch;  // a new pass starts from the top with fresh state
          stream.set_position(0);
          encoder->reset();
          stream.next(steps, batch);
        }
      }
      // The loader's own time: training should never wait on it (bench/RESULTS.md).
      window_load_seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
      Bf16Autocast autocast(settings.bf16 && !settings.recurrent(), device.type());
      const auto loss = model->loss(as_tensor(batch.inputs, batch.rows, batch.steps, device),
                                    as_tensor(batch.targets, batch.rows, batch.steps, device));
      // Gradients are averaged over ranks on the last micro-batch only, overlapping backward.
      reducer.prepare(micro + 1 == settings.accumulate);
      (loss.total / static_cast<double>(settings.accumulate)).backward();
      step_loss += loss.cross_entropy.item<double>() / static_cast<double>(settings.accumulate);
      window_tokens += static_cast<std::uint64_t>(batch.rows * batch.steps * ranks);
      state.tokens += static_cast<std::uint64_t>(batch.rows * batch.steps * ranks);
      if (!settings.recurrent()) encoder->reset();
    }
    reducer.finish();
    if (ranks > 1) {
      // The global batch's loss, and a stop that every rank agrees on (a signal may reach one).
      std::vector<torch::Tensor> shared = {
          torch::tensor({step_loss, StopOnSignals::requested() != 0 ? 1.0 : 0.0}, torch::kDouble)};
      comm.all_reduce_sum(shared);
      step_loss = shared[0][0].item<double>() / ranks;
      stop = shared[0][1].item<double>() > 0;
    } else {
      stop = StopOnSignals::requested() != 0;
    }
    const double max_norm =
        settings.grad_clip > 0 ? settings.grad_clip : std::numeric_limits<double>::infinity();
    const double grad_norm = torch::nn::utils::clip_grad_norm_(parameters, max_norm);
    optimizer.step();
    optimizer.zero_grad();
    ++state.step;
    if (!std::isfinite(step_loss)) {
      throw Error("the training loss became " + std::to_string(step_loss) + " at step " +
                  std::to_string(state.step) + " (lower train.lr, or use fp32)");
    }
    window_loss += step_loss;
    ++window_steps;
    const auto now = std::chrono::steady_clock::now();
    const double wall = wall_before + std::chrono::duration<double>(now - session_start).count();
    const double window_seconds = std::chrono::duration<double>(now - window_start).count();
    const double tokens_per_s = window_seconds > 0 ? window_tokens / window_seconds : 0.0;
    if (writer) progress.update(state.step, window_loss / window_steps, tokens_per_s);
    finished = state.step >= total_steps;

    if (writer && (state.step % settings.log_every == 0 || finished)) {
      const double epoch_progress =
          state.epoch + static_cast<double>(stream.position()) / stream.stream_length();
      metrics->append({{"step", state.step},
                       {"split", "train"},
                       {"loss", window_loss / window_steps},
                       {"lr", value.lr},
                       {"tokens_per_s", tokens_per_s},
                       {"grad_norm", grad_norm},
                       {"wall_s", wall},
                       {"epoch", epoch_progress},
                       {"loader_tokens_per_s",
                        window_load_seconds > 0 ? window_tokens / window_load_seconds : 0.0},
                       {"comm_wait_s", comm.waiting_time().count()}});
      if (!progress.active()) {
        logger->info("step {}/{} loss {:.4f} lr {:.2e} {:.0f} tok/s", state.step, total_steps,
                     window_loss / window_steps, value.lr, tokens_per_s);
      }
      window_loss = 0;
      window_steps = 0;
      window_tokens = 0;
      window_load_seconds = 0;
      window_start = std::chrono::steady_clock::now();
    }
    if (writer && (state.step % settings.eval_every == 0 || finished)) {
      const Evaluation eval = evaluate(*model, run.corpus->valid(), settings, device);
      if (eval.tokens > 0) {
        metrics->append({{"step", state.step},
                         {"split", "valid"},
                         {"loss", eval.loss},
                         {"perplexity", std::exp(eval.loss)},
                         {"accuracy", eval.accuracy},
                         {"tokens", eval.tokens},
                         {"wall_s", wall}});
        progress.clear();
        logger->info("step {} valid loss {:.4f} perplexity {:.3f} accuracy {:.4f}", state.step,
                     eval.loss, std::exp(eval.loss), eval.accuracy);
      }
      report::write_run_report(run.dir);
      // Evaluation time is not training time.
      window_start = std::chrono::steady_clock::now();
    }
    state.wall_seconds = wall;
    if (state.step % settings.checkpoint_every == 0 || finished) save();
  }
  progress.finish();

  if (!finished) {
    save();
    finish_reporting("interrupted");
    logger->warn("stopped by a signal at step {}: checkpoint saved; continue with --resume",
                 state.step);
    return RunOutcome::interrupted;
  }
  finish_reporting("finished");
  logger->info("finished at step {}: {}", state.step, (run.dir / "report.html").string());
  return RunOutcome::finished;
}

}  // namespace genolm::train
