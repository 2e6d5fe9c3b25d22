#include "train/finetune_trainer.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <random>

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
#include "train/unfreezing.h"
#include "util/files.h"
#include "util/heap.h"
#include "util/log.h"

namespace genolm::train {
namespace {

struct Settings {
  bool transformer = false;
  bool bf16 = false;
  std::int64_t batch = 64;
  double grad_clip = 0;
  double weight_decay = 0.01;
  std::int64_t log_every = 50, checkpoint_every = 1000;
  std::uint64_t seed = 42;
  std::vector<std::int64_t> stage_epochs;
  std::vector<double> stage_lrs;
  double lr_div = 2.6;
  bool gradual = true;
  std::int64_t patience = 0;
  bool rc_augment = false, rc_average = false;
  std::string metric;
  std::string loss;
  bool balanced_weights = false;

  Settings(const config::Recipe& r, const data::LabelScheme& scheme, bool pretrained,
           bool is_transformer)
      : transformer(is_transformer),
        bf16(r.string("train.precision") == "bf16"),
        batch(r.integer("train.batch_size")),
        grad_clip(r.number("train.grad_clip")),
        weight_decay(r.number("train.weight_decay")),
        log_every(r.integer("train.log_every")),
        checkpoint_every(r.integer("train.checkpoint_every")),
        seed(static_cast<std::uint64_t>(r.integer("run.seed"))),
        stage_lrs(r.numbers("finetune.stage_lrs")),
        lr_div(r.number("finetune.lr_div")),
        gradual(r.boolean("finetune.gradual_unfreezing") && pretrained),
        patience(r.integer("finetune.patience")),
        rc_augment(r.boolean("task.rc_augment")),
        rc_average(r.boolean("task.rc_average")),
        metric(r.string("task.metric")),
        loss(r.string("task.loss")),
        balanced_weights(r.string("task.class_weights") == "balanced") {
    for (const double epochs : r.numbers("finetune.stage_epochs")) {
      if (epochs != std::floor(epochs)) {
        throw Error("finetune.stage_epochs holds " + std::to_string(epochs) +
                    ": epochs are whole numbers");
      }
      stage_epochs.push_back(static_cast<std::int64_t>(epochs));
    }
    if (stage_epochs.empty() || stage_epochs.size() != stage_lrs.size()) {
      throw Error(
          "finetune.stage_epochs and finetune.stage_lrs must name the same number of "
          "stages (got " +
          std::to_string(stage_epochs.size()) + " and " + std::to_string(stage_lrs.size()) + ")");
    }
    if (metric == "auto")
      metric = scheme.kind == data::TaskKind::classification ? "accuracy" : "r2";
  }

  std::int64_t total_epochs() const {
    std::int64_t total = 0;
    for (const auto e : stage_epochs)
      total += e;
    return total;
  }
  // Stage of a (0-based) epoch, and the epoch the stage starts at.
  std::size_t stage_of(std::int64_t epoch) const {
    std::size_t stage = 0;
    for (std::int64_t end = stage_epochs[0]; epoch >= end && stage + 1 < stage_epochs.size();)
      end += stage_epochs[++stage];
    return stage;
  }
  std::int64_t first_epoch(std::size_t stage) const {
    std::int64_t first = 0;
    for (std::size_t s = 0; s < stage; ++s)
      first += stage_epochs[s];
    return first;
  }
};

// With augmentation an example may be read on either strand: sort by the longer.
std::vector<std::size_t> lengths_of(const data::TaskExamples& examples, bool rc_strand_too) {
  auto lengths = data::token_lengths(examples.tokens);
  if (rc_strand_too) {
    for (std::size_t i = 0; i < lengths.size(); ++i)
      lengths[i] = std::max(lengths[i], examples.rc_tokens[i].size());
  }
  return lengths;
}

// An epoch's batches and, with augmentation, which examples read the other strand: both follow
// from the seed and the epoch alone, so a resumed run repeats them exactly. A batch of one is
// dropped (batch norm cannot train on it), as fastai drops the last incomplete batch.
struct EpochPlan {
  std::vector<std::vector<std::size_t>> batches;
  std::vector<bool> other_strand;
};

EpochPlan plan_epoch(const data::TaskExamples& train, const Settings& settings,
                     std::int64_t epoch) {
  std::mt19937_64 rng(settings.seed * 1000003u + static_cast<std::uint64_t>(epoch) + 1);
  EpochPlan plan;
  plan.batches = data::sortish_batches(lengths_of(train, settings.rc_augment),
                                       static_cast<std::size_t>(settings.batch), rng);
  std::erase_if(plan.batches, [](const auto& batch) { return batch.size() < 2; });
  plan.other_strand.assign(train.size(), false);
  if (settings.rc_augment) {
    std::bernoulli_distribution coin(0.5);
    for (std::size_t i = 0; i < train.size(); ++i)
      plan.other_strand[i] = coin(rng);
  }
  return plan;
}

// Short text of the headline metrics, for log lines.
std::string headline(const nlohmann::json& metrics, const data::LabelScheme& scheme) {
  const std::vector<std::string> names =
      scheme.kind == data::TaskKind::classification
          ? std::vector<std::string>{"loss", "accuracy", "mcc", "macro_f1", "auroc"}
          : std::vector<std::string>{"loss", "rmse", "pearson", "spearman", "r2"};
  std::string text;
  for (const auto& name : names) {
    char part[64];
    std::snprintf(part, sizeof part, "%s%s %.4f", text.empty() ? "" : " ", name.c_str(),
                  metric_value(metrics, name));
    text += part;
  }
  return text;
}

}  // namespace

RunOutcome finetune(const FinetuneRun& run) {
  const auto logger = log("finetune");
  const config::Recipe& recipe = *run.recipe;
  const bool pretrained = !run.pretrained.empty();
  const Settings settings(recipe, run.scheme, pretrained, run.encoder.at("arch") == "transformer");
  const data::TaskExamples& train = *run.train;
  const bool classify = run.scheme.kind == data::TaskKind::classification;
  torch::manual_seed(settings.seed);

  auto encoder = models::make_encoder(run.encoder);
  if (pretrained) {
    load_module_file(*encoder, run.pretrained);
    logger->info("encoder weights from {}", run.pretrained.string());
  }
  encoder->set_bf16(settings.bf16 && !settings.transformer);
  auto model = models::make_classifier(encoder, run.encoder, run.task);
  model->train();
  dist::Communicator& comm = job_communicator(run.comm);
  const torch::Device device = move_to_rank_device(*model, recipe.string("train.device"), comm);
  keep_freed_memory_in_heap();  // every step frees and reallocates the same tensors
  const auto groups = model->layer_groups();
  const std::size_t group_count = groups.size();
  std::int64_t parameter_count = 0;
  for (const auto& p : model->parameters())
    parameter_count += p.numel();

  // Data parallel: rank 0's weights everywhere; each rank trains on every ranks-th batch of the
  // shared batch order, gradients are averaged; rank 0 alone evaluates and writes the run folder.
  const int rank = comm.rank(), ranks = comm.size();
  const bool writer = rank == 0;
  share_initial_weights(*model, comm, settings.seed);
  dist::GradientReducer reducer(
      model->parameters(), comm,
      static_cast<std::size_t>(recipe.number("dist.bucket_mb") * (1 << 20)));

  std::vector<torch::optim::OptimizerParamGroup> param_groups;
  for (const auto& group : groups) {
    param_groups.emplace_back(group, std::make_unique<torch::optim::AdamWOptions>(
                                         torch::optim::AdamWOptions(1e-3)
                                             .betas({0.9, 0.99})
                                             .eps(1e-5)
                                             .weight_decay(settings.weight_decay)));
  }
  FusedAdamW optimizer(std::move(param_groups));

  torch::Tensor class_weights;
  if (classify && settings.balanced_weights) {
    std::vector<double> counts(run.scheme.classes.size(), 0.0);
    for (const auto c : train.classes)
      counts[static_cast<std::size_t>(c)] += 1;
    std::vector<float> weights;
    for (const double count : counts)
      weights.push_back(count > 0 ? static_cast<float>(train.size() / (counts.size() * count))
                                  : 0.f);
    class_weights = torch::tensor(weights).to(device);
  }

  // Every epoch has as many batches (only their order changes); each rank takes 1 of `ranks`.
  const auto per_epoch =
      static_cast<std::int64_t>(plan_epoch(train, settings, 0).batches.size()) / ranks;
  if (per_epoch == 0) {
    throw Error("the train split has " + std::to_string(train.size()) + " example(s): too few to " +
                "train on (at least 2 per rank and batch are needed)");
  }
  const std::int64_t total_epochs = settings.total_epochs();
  const std::int64_t total_steps = total_epochs * per_epoch;

  Checkpoints checkpoints(rank_checkpoint_dir(run.dir, rank),
                          static_cast<int>(recipe.integer("train.keep_checkpoints")));
  TrainingState state;
  state.extra = {{"best", nullptr},
                 {"without_improvement", 0},
                 {"stopped_early", false},
                 {"tested", false},
                 {"world_size", ranks}};
  if (run.resume) {
    if (const auto latest =
            resume_every_rank(checkpoints, *model, optimizer, comm, run.dir, state)) {
      logger->info("resumed from {} at step {} (epoch {}, batch {})", latest->string(), state.step,
                   state.epoch + 1, state.position);
    } else {
      logger->warn("no checkpoint in {}: starting from step 0", (run.dir / "checkpoints").string());
    }
  }
  std::optional<report::MetricsLog> metrics;
  if (writer) {
    report::truncate_metrics_after(run.dir / "metrics.jsonl", state.step);
    metrics.emplace(run.dir / "metrics.jsonl");
  }

  nlohmann::json task_summary = {{"kind", classify ? "classification" : "regression"},
                                 {"metric", settings.metric},
                                 {"best", state.extra.at("best")}};
  if (classify)
    task_summary["classes"] = run.scheme.classes;
  else
    task_summary["targets"] = run.scheme.targets;
  task_summary["examples"] = {
      {"train", train.size()}, {"valid", run.valid->size()}, {"test", run.test->size()}};
  nlohmann::json run_json = {
      {"name", run.dir.filename().string()},
      {"status", "running"},
      {"task", task_summary},
      {"tokenizer", run.tokenizer},
      {"model",
       {{"arch", run.encoder.at("arch")},
        {"parameters", parameter_count},
        {"pretrained", pretrained ? run.pretrained.parent_path().string() : "none"},
        {"encoder", run.encoder}}},
      {"total_steps", total_steps},
      {"threads", at::get_num_threads()},
      {"ranks", ranks},
      {"device", device.str()},
      {"started", utc_now_text()},
      {"genolm_version", GENOLM_VERSION}};
  if (writer) {
    write_json_atomically(run.dir / "run.json", run_json);
    write_json_atomically(run.dir / "model.json", {{"encoder", run.encoder}, {"task", run.task}});
  }
  logger->info(
      "{} encoder{} with {} parameters; {} layer groups; {} stages, {} epochs of {} "
      "steps, batch {}; {} train / {} valid / {} test examples",
      run.encoder.at("arch").get<std::string>(), pretrained ? " (pretrained)" : "", parameter_count,
      group_count, settings.stage_epochs.size(), total_epochs, per_epoch, settings.batch,
      train.size(), run.valid->size(), run.test->size());

  const auto report = [&](const char* status) {
    if (!writer) return;
    run_json["status"] = status;
    run_json["last_step"] = state.step;
    run_json["task"]["best"] = state.extra.at("best");
    run_json["task"]["test"] = state.extra.value("test", nlohmann::json(nullptr));
    write_json_atomically(run.dir / "run.json", run_json);
    report::write_run_report(run.dir);
  };
  const auto save = [&] { checkpoints.save(*model, optimizer, state); };

  // Frozen groups neither compute gradients nor take optimizer steps (no grad, no update, no
  // weight decay).
  const auto apply_stage = [&](std::size_t stage) {
    const std::size_t trainable =
        trainable_groups(stage, settings.stage_epochs.size(), group_count, settings.gradual);
    for (std::size_t g = 0; g < group_count; ++g) {
      const bool on = g + trainable >= group_count;
      for (const auto& p : groups[g]) {
        auto parameter = p;
        parameter.requires_grad_(on);
        if (!on) parameter.mutable_grad() = torch::Tensor();
      }
    }
    return trainable;
  };

  const InferenceOptions inference{.batch_size = 2 * settings.batch,
                                   .autocast = settings.bf16 && settings.transformer,
                                   .rc_average = settings.rc_average};
  const StopOnSignals signals;
  ProgressBar progress(total_steps, state.step);
  bool stop_requested = false;  // agreed by every rank after each step
  const auto session_start = std::chrono::steady_clock::now();
  const double wall_before = state.wall_seconds;
  const auto wall_now = [&] {
    return wall_before +
           std::chrono::duration<double>(std::chrono::steady_clock::now() - session_start).count();
  };
  bool stopped = state.extra.at("stopped_early").get<bool>();

  while (!stopped && state.epoch < total_epochs) {
    const std::int64_t epoch = state.epoch;
    const std::size_t stage = settings.stage_of(epoch);
    const std::size_t trainable = apply_stage(stage);
    if (state.position == 0) {
      logger->info("epoch {}/{}: stage {}, training the top {} of {} layer groups, top lr {:.2e}",
                   epoch + 1, total_epochs, stage + 1, trainable, group_count,
                   settings.stage_lrs[stage]);
    }
    ScheduleOptions schedule;
    schedule.kind = "one_cycle";
    schedule.lr = settings.stage_lrs[stage];
    schedule.total_steps = settings.stage_epochs[stage] * per_epoch;
    const std::int64_t stage_first_step = settings.first_epoch(stage) * per_epoch;

    const EpochPlan plan = plan_epoch(train, settings, epoch);
    double window_loss = 0;
    std::int64_t window_steps = 0;
    std::uint64_t window_examples = 0, window_tokens = 0;
    auto window_start = std::chrono::steady_clock::now();
    const auto steps_in_epoch = static_cast<std::size_t>(per_epoch);
    for (auto i = static_cast<std::size_t>(state.position); i < steps_in_epoch; ++i) {
      if (stop_requested) {
        progress.finish();
        state.wall_seconds = wall_now();
        save();
        report("interrupted");
        logger->warn("stopped by a signal at step {}: checkpoint saved; continue with --resume",
                     state.step);
        return RunOutcome::interrupted;
      }
      // Every rank walks the same batch order; rank r takes batch r of each group of `ranks`.
      const auto& indices =
          plan.batches[i * static_cast<std::size_t>(ranks) + static_cast<std::size_t>(rank)];
      std::vector<const std::vector<std::int32_t>*> sequences;
      for (const std::size_t e : indices)
        sequences.push_back(plan.other_strand[e] ? &train.rc_tokens[e] : &train.tokens[e]);
      auto padded = data::pad_batch(sequences);
      const auto [ids, lengths] = batch_tensors(padded, device);

      const ScheduleValue value = schedule_at(schedule, state.step - stage_first_step);
      const auto rates = group_learning_rates(value.lr, group_count, trainable, settings.lr_div);
      for (std::size_t g = 0; g < group_count; ++g) {
        auto& options =
            static_cast<torch::optim::AdamWOptions&>(optimizer.param_groups()[g].options());
        options.lr(rates[g]);
        options.betas({value.beta1, 0.99});
      }

      torch::Tensor outputs;
      {
        Bf16Autocast autocast(settings.bf16 && settings.transformer, device.type());
        outputs = model->forward(ids, lengths).to(torch::kFloat);
      }
      torch::Tensor loss;
      if (classify) {
        std::vector<std::int64_t> labels;
        for (const std::size_t e : indices)
          labels.push_back(train.classes[e]);
        namespace F = torch::nn::functional;
        auto options = F::CrossEntropyFuncOptions();
        if (class_weights.defined()) options.weight(class_weights);
        loss = F::cross_entropy(outputs, torch::tensor(labels, torch::kLong).to(device), options);
      } else {
        const std::size_t width = run.scheme.targets.size();
        std::vector<float> targets;
        for (const std::size_t e : indices) {
          for (std::size_t t = 0; t < width; ++t) {
            double y = train.targets[e * width + t];
            if (run.scaling.active()) y = (y - run.scaling.mean[t]) / run.scaling.deviation[t];
            targets.push_back(static_cast<float>(y));
          }
        }
        const auto y =
            torch::tensor(targets)
                .view({static_cast<std::int64_t>(indices.size()), static_cast<std::int64_t>(width)})
                .to(device);
        loss =
            settings.loss == "huber" ? torch::huber_loss(outputs, y) : torch::mse_loss(outputs, y);
      }
      reducer.prepare(true);
      loss.backward();
      reducer.finish();
      const double max_norm =
          settings.grad_clip > 0 ? settings.grad_clip : std::numeric_limits<double>::infinity();
      const double grad_norm = torch::nn::utils::clip_grad_norm_(model->parameters(), max_norm);
      optimizer.step();
      optimizer.zero_grad();
      ++state.step;
      state.position = i + 1;
      double step_loss = loss.item<double>();
      if (ranks > 1) {
        // The mean over ranks' batches, and a stop every rank agrees on.
        std::vector<torch::Tensor> shared = {torch::tensor(
            {step_loss, StopOnSignals::requested() != 0 ? 1.0 : 0.0}, torch::kDouble)};
        comm.all_reduce_sum(shared);
        step_loss = shared[0][0].item<double>() / ranks;
        stop_requested = shared[0][1].item<double>() > 0;
      } else {
        stop_requested = StopOnSignals::requested() != 0;
      }
      if (!std::isfinite(step_loss)) {
        throw Error("the training loss became " + std::to_string(step_loss) + " at step " +
                    std::to_string(state.step) + " (lower finetune.stage_lrs, or use fp32)");
      }
      window_loss += step_loss;
      ++window_steps;
      window_examples += indices.size() * static_cast<std::size_t>(ranks);
      window_tokens += static_cast<std::uint64_t>(padded.rows * padded.steps * ranks);
      state.tokens += static_cast<std::uint64_t>(padded.rows * padded.steps * ranks);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count();
      if (writer) {
        progress.update(state.step, window_loss / window_steps,
                        seconds > 0 ? window_tokens / seconds : 0.0);
      }
      if (writer && (state.step % settings.log_every == 0 || i + 1 == steps_in_epoch)) {
        metrics->append({{"step", state.step},
                         {"split", "train"},
                         {"loss", window_loss / window_steps},
                         {"lr", value.lr},
                         {"group_lrs", rates},
                         {"grad_norm", grad_norm},
                         {"wall_s", wall_now()},
                         {"epoch", epoch + static_cast<double>(i + 1) / steps_in_epoch},
                         {"stage", stage + 1},
                         {"examples_per_s", seconds > 0 ? window_examples / seconds : 0.0},
                         {"tokens_per_s", seconds > 0 ? window_tokens / seconds : 0.0}});
        if (!progress.active()) {
          logger->info("step {}/{} loss {:.4f} lr {:.2e} {:.0f} examples/s", state.step,
                       total_steps, window_loss / window_steps, value.lr,
                       seconds > 0 ? window_examples / seconds : 0.0);
        }
        window_loss = 0;
        window_steps = 0;
        window_examples = window_tokens = 0;
        window_start = std::chrono::steady_clock::now();
      }
      if (state.step % settings.checkpoint_every == 0 && i + 1 < steps_in_epoch) {
        state.wall_seconds = wall_now();
        save();
      }
    }

    // End of the epoch: rank 0 validates, keeps the best weights and decides on early stopping;
    // the other ranks learn the decision; every rank checkpoints.
    bool stop_now = false;
    if (writer) {
      progress.clear();
      const auto valid_predictions =
          predict(*model, *run.valid, run.scheme, run.scaling, inference);
      nlohmann::json row = {{"step", state.step},
                            {"split", "valid"},
                            {"epoch", epoch + 1},
                            {"stage", stage + 1},
                            {"wall_s", wall_now()}};
      row.update(task_metrics(run.scheme, valid_predictions, *run.valid, run.scaling));
      metrics->append(row);
      const double value = metric_value(row, settings.metric);
      const auto& best = state.extra.at("best");
      const bool improved = std::isfinite(value) &&
                            (best.is_null() || (higher_is_better(settings.metric)
                                                    ? value > best.at("value").get<double>()
                                                    : value < best.at("value").get<double>()));
      logger->info("epoch {} valid: {}{}", epoch + 1, headline(row, run.scheme),
                   improved ? " (best so far: saved)" : "");
      if (improved) {
        save_module_file(*model, run.dir / "classifier.pt");
        state.extra["best"] = {{"epoch", epoch + 1}, {"step", state.step}, {"value", value}};
        state.extra["without_improvement"] = 0;
      } else {
        state.extra["without_improvement"] = state.extra.at("without_improvement").get<int>() + 1;
      }
      stop_now = settings.patience > 0 &&
                 state.extra.at("without_improvement").get<std::int64_t>() >= settings.patience;
      if (stop_now) {
        logger->info("early stopping: {} epoch(s) without a better valid {}", settings.patience,
                     settings.metric);
      }
    }
    if (ranks > 1) stop_now = comm.all_reduce_sum(stop_now ? 1.0 : 0.0) > 0;
    if (stop_now) {
      stopped = true;
      state.extra["stopped_early"] = true;
    }
    state.epoch = epoch + 1;
    state.position = 0;
    state.wall_seconds = wall_now();
    save();
    report("running");
  }
  progress.finish();

  if (!writer) {
    // Testing and the model files are rank 0's; the others only keep their checkpoints whole.
    state.extra["tested"] = true;
    save();
    return RunOutcome::finished;
  }
  if (!state.extra.at("tested").get<bool>()) {
    // The best epoch's weights are the model; without any finite valid metric, the last ones.
    if (std::filesystem::exists(run.dir / "classifier.pt"))
      load_module_file(*model, run.dir / "classifier.pt");
    else
      save_module_file(*model, run.dir / "classifier.pt");
    if (run.test->size() > 0) {
      const auto test_predictions = predict(*model, *run.test, run.scheme, run.scaling, inference);
      nlohmann::json row = {{"step", state.step}, {"split", "test"}, {"wall_s", wall_now()}};
      if (!state.extra.at("best").is_null()) row["epoch"] = state.extra.at("best").at("epoch");
      row.update(task_metrics(run.scheme, test_predictions, *run.test, run.scaling));
      metrics->append(row);
      write_predictions(run.dir / "test_predictions.tsv", run.scheme, *run.test, test_predictions);
      state.extra["test"] = row;
      logger->info("test: {}", headline(row, run.scheme));
    }
    state.extra["tested"] = true;
    save();
  } else {
    logger->info("the run had finished: nothing to do");
  }
  report("finished");
  logger->info("finished: {}", (run.dir / "report.html").string());
  return RunOutcome::finished;
}

}  // namespace genolm::train
