#include "train/finetune_trainer.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <random>

#include "genolm/error.h"
#include "models/model_factory.h"
#include "report/epoch_table.h"
#include "train/device.h"
#include "train/early_stopping.h"
#include "train/inference.h"
#include "train/lr_plan.h"
#include "train/module_file.h"
#include "train/precision.h"
#include "train/unfreezing.h"
#include "util/log.h"

namespace genolm::train {
namespace {

// The highest one-stage rate measured to train a new (not pretrained) AWD-LSTM reliably.
constexpr double kNewEncoderRate = 2e-3;

// The recipe keys only fine-tuning reads.
struct FinetuneSettings {
  std::int64_t batch = 0;
  std::vector<std::int64_t> stage_epochs;
  std::vector<double> stage_lrs;
  double lr_div = 0;  // 1 for an encoder that was not pretrained: its groups are all new
  double moms_high = 0.8, moms_low = 0.7;
  bool gradual = true;
  std::int64_t patience = 0;
  bool rc_augment = false, rc_average = false;
  std::string metric;

  FinetuneSettings(const config::Recipe& r, const task::Task& task, bool pretrained)
      : batch(r.integer("train.batch_size")),
        stage_lrs(r.numbers("finetune.stage_lrs")),
        lr_div(pretrained ? r.number("finetune.lr_div") : 1.0),
        gradual(r.boolean("finetune.gradual_unfreezing") && pretrained),
        patience(r.integer("finetune.patience")),
        rc_augment(r.boolean("task.rc_augment")),
        rc_average(r.boolean("task.rc_average")),
        metric(r.string("task.metric")) {
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
    if (metric == "auto") metric = task.default_metric();
    const auto& moms = r.numbers("finetune.moms");
    if (moms.size() != 2) {
      throw Error(
          "finetune.moms must be [high, low] (AdamW's beta1 at the ends and the peak of a "
          "cycle), got " +
          std::to_string(moms.size()) + " value(s)");
    }
    moms_high = moms[0];
    moms_low = moms[1];
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
  // Every step's rate of every group: fastai's one-cycle per stage, restarted at each stage.
  LrPlan lr_plan(std::int64_t per_epoch, std::size_t groups) const {
    LrPlan plan{.shape = {.kind = "one_cycle", .moms_high = moms_high, .moms_low = moms_low},
                .groups = layer_group_names(groups, true),
                .lr_div = lr_div};
    for (std::size_t stage = 0; stage < stage_epochs.size(); ++stage)
      plan.stages.push_back(
          {.first_step = first_epoch(stage) * per_epoch,
           .steps = stage_epochs[stage] * per_epoch,
           .lr = stage_lrs[stage],
           .trainable = trainable_groups(stage, stage_epochs.size(), groups, gradual)});
    return plan;
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

EpochPlan plan_epoch(const data::TaskExamples& train, const FinetuneSettings& settings,
                     std::uint64_t seed, std::int64_t epoch) {
  std::mt19937_64 rng(seed * 1000003u + static_cast<std::uint64_t>(epoch) + 1);
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

// Everything one fine-tuning run works with, for the functions below.
struct Finetuning {
  const FinetuneRun& run;
  const FinetuneSettings& settings;
  TrainingSession& session;
  const task::Task& task;
  std::shared_ptr<models::SequenceClassifier> model;
  std::vector<std::vector<torch::Tensor>> groups;
  nlohmann::json encoder_description, task_description;
  bool autocast = false;        // bf16 by autocast (else by the encoder's own cast, or fp32)
  std::int64_t per_epoch = 0;   // steps of one rank per epoch
  LrPlan lr_plan;               // every group's rate at every step
  bool stop_requested = false;  // agreed by every rank after each step
  // This epoch's steps in this session, for its row of the epoch table.
  double epoch_loss_sum = 0;
  std::int64_t epoch_steps = 0;
  std::chrono::steady_clock::time_point epoch_start = std::chrono::steady_clock::now();
  bool table_header_logged = false;

  const data::TaskExamples& train() const { return run.data->train; }
  InferenceOptions inference() const {
    return {
        .batch_size = 2 * settings.batch, .autocast = autocast, .rc_average = settings.rc_average};
  }
};

// Short text of the headline metrics, for log lines.
std::string headline(const nlohmann::json& metrics, const task::Task& task) {
  std::string text;
  for (const auto& name : task.headline_metrics()) {
    char part[64];
    std::snprintf(part, sizeof part, "%s%s %.4f", text.empty() ? "" : " ", name.c_str(),
                  task::metric_value(metrics, name));
    text += part;
  }
  return text;
}

models::TrainLengths train_lengths(const data::TaskExamples& train) {
  const auto lengths = data::token_lengths(train.tokens);
  if (lengths.empty()) return {};
  const auto [shortest, longest] = std::minmax_element(lengths.begin(), lengths.end());
  return {*shortest, *longest};
}

// model.json's "task": the kind's own part, the head, and how the model reads its input.
nlohmann::json describe_task(const config::Recipe& recipe, const task::FinetuneData& data,
                             const models::Encoder& encoder) {
  nlohmann::json task = data.task->describe();
  task.update({{"outputs", data.task->outputs()},
               {"head", models::head_description(recipe, train_lengths(data.train))},
               {"chunk", encoder.window(recipe.integer("train.bptt"))},
               {"max_len", recipe.integer("task.max_len")},
               {"rc_average", recipe.boolean("task.rc_average")},
               {"precision", recipe.string("train.precision")},
               {"columns",
                {{"sequence", data.columns.sequence_columns},
                 {"label", data.columns.label_columns},
                 {"id", data.columns.id_column}}}});
  return task;
}

// Frozen groups neither compute gradients nor take optimizer steps (no grad, no update, no
// weight decay). Returns how many groups train.
std::size_t apply_stage(Finetuning& f, std::size_t stage) {
  const std::size_t group_count = f.groups.size();
  const std::size_t trainable = f.lr_plan.stages[stage].trainable;
  for (std::size_t g = 0; g < group_count; ++g) {
    const bool on = g + trainable >= group_count;
    for (const auto& p : f.groups[g]) {
      auto parameter = p;
      parameter.requires_grad_(on);
      if (!on) parameter.mutable_grad() = torch::Tensor();
    }
  }
  return trainable;
}

// run.json's record of the best epoch and the test row, before it is rewritten.
void update_run_info(Finetuning& f) {
  const auto& state = f.session.state();
  auto& task = f.session.run_info()["task"];
  task["best"] = best_epoch_json(state.best);
  task["test"] = state.test_metrics;
}

// The examples of `indices`, each on the strand the plan drew, padded, through the model: the
// outputs in fp32, and the batch's token count (padding included). On the CPU the ids tensor
// views `padded`, and the embedding's backward reads those ids: the batch keeps them alive until
// the caller's backward is done.
struct BatchOutputs {
  std::unique_ptr<data::PaddedBatch> padded;
  torch::Tensor outputs;
  std::uint64_t tokens = 0;
};

BatchOutputs forward_batch(models::SequenceClassifier& model, const data::TaskExamples& train,
                           const EpochPlan& plan, const std::vector<std::size_t>& indices,
                           const torch::Device& device, bool autocast) {
  std::vector<const std::vector<std::int32_t>*> sequences;
  for (const std::size_t e : indices)
    sequences.push_back(plan.other_strand[e] ? &train.rc_tokens[e] : &train.tokens[e]);
  auto padded = std::make_unique<data::PaddedBatch>(data::pad_batch(sequences));
  const auto [ids, lengths] = batch_tensors(*padded, device);
  Bf16Autocast guard(autocast, device.type());
  auto outputs = model.forward(ids, lengths).to(torch::kFloat);
  const auto tokens = static_cast<std::uint64_t>(padded->rows * padded->steps);
  return {std::move(padded), std::move(outputs), tokens};
}

// One training step on batch `i` of the epoch's plan.
StepResult train_step(Finetuning& f, const EpochPlan& plan, std::size_t i) {
  auto& session = f.session;
  // Every rank walks the same batch order; rank r takes batch r of each group of `ranks`.
  const auto& indices = plan.batches[i * static_cast<std::size_t>(session.ranks()) +
                                     static_cast<std::size_t>(session.rank())];
  const LrRates rates = f.lr_plan.at(session.state().step);
  session.set_learning_rates(rates.lr, rates.beta1);
  const auto batch =
      forward_batch(*f.model, f.train(), plan, indices, session.device(), f.autocast);
  const auto loss = f.task.loss(batch.outputs, f.train(), indices);
  session.prepare_backward(true);
  loss.backward();
  const StepResult step = session.finish_step(loss.item<double>(), batch.tokens, indices.size());
  f.epoch_loss_sum += step.loss;
  ++f.epoch_steps;
  session.state().position = i + 1;
  session.update_progress();
  const bool epoch_end = i + 1 == static_cast<std::size_t>(f.per_epoch);
  if (session.log_due(epoch_end)) {
    const auto& window = session.window();
    char line[160];
    std::snprintf(line, sizeof line, "step %lld/%lld loss %.4f lr %.2e %.0f examples/s",
                  static_cast<long long>(session.state().step),
                  static_cast<long long>(f.per_epoch * f.settings.total_epochs()),
                  window.mean_loss(), rates.lr.back(), window.examples_per_s());
    session.log_train_row(
        rates.lr.back(), step.grad_norm,
        {{"group_lrs", rates.lr},
         {"epoch", static_cast<double>(session.state().epoch) +
                       static_cast<double>(i + 1) / static_cast<double>(f.per_epoch)},
         {"stage", f.settings.stage_of(session.state().epoch) + 1},
         {"examples_per_s", window.examples_per_s()}},
        line);
  }
  if (session.checkpoint_due() && !epoch_end) session.save_checkpoint();
  return step;
}

// The epoch's steps from where the state stands; false when a signal stopped the run.
bool train_epoch(Finetuning& f) {
  auto& state = f.session.state();
  const std::int64_t epoch = state.epoch;
  const std::size_t stage = f.settings.stage_of(epoch);
  const std::size_t trainable = apply_stage(f, stage);
  if (state.position == 0) {
    log("finetune")
        ->info("epoch {}/{}: stage {}, training the top {} of {} layer groups, top lr {:.2e}",
               epoch + 1, f.settings.total_epochs(), stage + 1, trainable, f.groups.size(),
               f.settings.stage_lrs[stage]);
  }
  const EpochPlan plan = plan_epoch(f.train(), f.settings, f.session.options().seed, epoch);
  f.session.window().restart();
  f.epoch_loss_sum = 0;
  f.epoch_steps = 0;
  f.epoch_start = std::chrono::steady_clock::now();
  for (auto i = static_cast<std::size_t>(state.position); i < static_cast<std::size_t>(f.per_epoch);
       ++i) {
    if (f.stop_requested) return false;
    f.stop_requested = train_step(f, plan, i).stop;
  }
  return true;
}

// Rank 0 validates, keeps the best weights and decides on early stopping; the other ranks learn
// the decision; every rank checkpoints.
void end_epoch(Finetuning& f) {
  auto& session = f.session;
  auto& state = session.state();
  const std::int64_t epoch = state.epoch;
  bool stop_now = false;
  if (session.writer()) {
    session.progress().clear();
    const auto predictions = predict(*f.model, f.run.data->valid, f.task, f.inference());
    nlohmann::json row = {{"step", state.step},
                          {"split", "valid"},
                          {"epoch", epoch + 1},
                          {"stage", f.settings.stage_of(epoch) + 1},
                          {"wall_s", session.wall_seconds()}};
    row.update(f.task.metrics(predictions, f.run.data->valid));
    session.append_metrics(row);
    const double value = task::metric_value(row, f.settings.metric);
    const bool higher = task::higher_is_better(f.settings.metric);
    const bool improved =
        std::isfinite(value) &&
        (!state.best || (higher ? value > state.best->value : value < state.best->value));
    const report::EpochTable table(f.task.headline_metrics());
    if (!f.table_header_logged) {
      log("finetune")->info("{}", table.header());
      f.table_header_logged = true;
    }
    log("finetune")
        ->info("{}",
               table.row({.epoch = epoch + 1,
                          .stage = static_cast<long long>(f.settings.stage_of(epoch)) + 1,
                          .train_loss = f.epoch_steps > 0
                                            ? f.epoch_loss_sum / static_cast<double>(f.epoch_steps)
                                            : std::nan(""),
                          .valid_loss = task::metric_value(row, "loss"),
                          .valid_metrics = row,
                          .seconds = std::chrono::duration<double>(
                                         std::chrono::steady_clock::now() - f.epoch_start)
                                         .count(),
                          .best = improved}));
    if (improved) {
      save_module_file(*f.model, session.layout().classifier_weights());
      state.best = BestEpoch{.epoch = epoch + 1, .step = state.step, .value = value};
    }
    record_valid_epoch(state, improved, task::metric_value(row, "loss"));
    stop_now = patience_exhausted(state, f.settings.patience);
    if (stop_now) {
      log("finetune")
          ->info("early stopping: {} epoch(s) without a better valid {} or a lower valid loss",
                 f.settings.patience, f.settings.metric);
    }
  }
  if (session.agree(stop_now)) state.stopped_early = true;
  state.epoch = epoch + 1;
  state.position = 0;
  session.save_checkpoint();
  update_run_info(f);
  session.finish("running");
}

// The best epoch's weights are the model (without any finite valid metric, the last ones): rank 0
// tests them once and writes the predictions.
RunOutcome test_and_finish(Finetuning& f) {
  auto& session = f.session;
  auto& state = session.state();
  const auto& layout = session.layout();
  if (!session.writer()) {
    // Testing and the model files are rank 0's; the others only keep their checkpoints whole.
    state.tested = true;
    session.save_checkpoint();
    return RunOutcome::finished;
  }
  if (!state.tested) {
    if (const auto saved = run::existing_weights(layout.classifier_weights()))
      load_module_file(*f.model, *saved);
    else
      save_module_file(*f.model, layout.classifier_weights());
    const auto& test = f.run.data->test;
    if (test.size() > 0) {
      const auto predictions = predict(*f.model, test, f.task, f.inference());
      nlohmann::json row = {
          {"step", state.step}, {"split", "test"}, {"wall_s", session.wall_seconds()}};
      if (state.best) row["epoch"] = state.best->epoch;
      row.update(f.task.metrics(predictions, test));
      session.append_metrics(row);
      task::write_predictions(layout.test_predictions(), f.task, test, predictions);
      state.test_metrics = row;
      log("finetune")->info("test: {}", headline(row, f.task));
    }
    state.tested = true;
    session.save_checkpoint();
  } else {
    log("finetune")->info("the run had finished: nothing to do");
  }
  update_run_info(f);
  session.finish("finished");
  log("finetune")->info("finished: {}", layout.report().string());
  return RunOutcome::finished;
}

// The classifier as a run starts it: the encoder as fine-tuned (with the pretrained weights when
// there are some) under the task's head; in train mode, on the CPU.
struct Classifier {
  std::shared_ptr<models::SequenceClassifier> model;
  nlohmann::json encoder_description, task_description;
  bool autocast = false;  // bf16 by autocast (else by the encoder's own cast, or fp32)
};

Classifier build_classifier(const FinetuneRun& run, bool bf16) {
  const config::Recipe& recipe = *run.context.recipe;
  const auto& start = *run.start;
  Classifier c;
  c.encoder_description =
      models::classifier_encoder_description(start.description, recipe.number("model.drop_mult"));
  auto encoder = models::make_encoder(c.encoder_description);
  if (start.pretrained() && start.weights_hold_language_model) {
    // The encoder's tensors inside the language model's file: a language model around the encoder
    // reads them, and its decoder bias is dropped with the wrapper.
    load_module_file(*models::make_language_model(encoder, start.description, 0, 0), start.weights);
    log("finetune")->info("encoder weights from the language model in {}", start.weights.string());
  } else if (start.pretrained()) {
    load_module_file(*encoder, start.weights);
    log("finetune")->info("encoder weights from {}", start.weights.string());
  }
  encoder->set_bf16(bf16 && encoder->bf16_mode() == models::Bf16Mode::explicit_cast);
  c.autocast = bf16 && encoder->bf16_mode() == models::Bf16Mode::autocast;
  c.task_description = describe_task(recipe, *run.data, *encoder);
  c.model = models::make_classifier(encoder, c.task_description);
  c.model->train();
  return c;
}

// run.json, model.json and the opening log line.
void announce(Finetuning& f) {
  const auto& data = *f.run.data;
  const auto& start = *f.run.start;
  nlohmann::json task_summary = f.task.describe();
  task_summary.erase("scaling");
  task_summary.update(
      {{"metric", f.settings.metric},
       {"report_metrics", f.task.report_metrics()},
       {"best", best_epoch_json(f.session.state().best)},
       {"examples",
        {{"train", data.train.size()}, {"valid", data.valid.size()}, {"test", data.test.size()}}}});
  const std::int64_t total_steps = f.settings.total_epochs() * f.per_epoch;
  f.session.write_run_info(
      f.encoder_description,
      {{"task", task_summary},
       {"tokenizer", tokenizers::read_tokenizer_manifest(f.session.layout().tokenizer())},
       {"model",
        {{"pretrained", start.pretrained() ? start.from.string() : "none"},
         {"direction", run::direction_name(start.direction)}}},
       {"lr_plan", f.lr_plan.to_json()}},
      total_steps);
  run::ModelCard card;
  card.produced_by = std::string("genolm finetune ") + GENOLM_VERSION;
  card.encoder = f.encoder_description;
  card.tokenizer = run::tokenizer_card(*start.tokenizer);
  card.task = f.task_description;
  card.direction = start.direction;
  f.session.write_model_card(card);
  log("finetune")
      ->info(
          "{} encoder{} with {} parameters; {} layer groups; {} stages, {} epochs of {} "
          "steps, batch {}; {} train / {} valid / {} test examples",
          f.encoder_description.at("arch").get<std::string>(),
          start.pretrained() ? " (pretrained)" : "", f.session.parameter_count(), f.groups.size(),
          f.settings.stage_epochs.size(), f.settings.total_epochs(), f.per_epoch, f.settings.batch,
          data.train.size(), data.valid.size(), data.test.size());
  // The default stages suit a pretrained encoder. On a new one each stage is a short one-cycle on
  // every group, and a first stage above 2e-3 left E. coli promoters at the class prior.
  const auto& lrs = f.settings.stage_lrs;
  if (!start.pretrained() && (lrs.size() > 1 || lrs.front() > kNewEncoderRate)) {
    log("finetune")
        ->warn(
            "the encoder is new: several stages, or rates above {:g}, can leave it at the class "
            "prior (E. coli promoters from scratch: MCC 0.15 with the default stages, 0.74 with "
            "finetune.stage_epochs = [12], finetune.stage_lrs = [{:g}]; bench/RESULTS.md)",
            kNewEncoderRate, kNewEncoderRate);
  }
}

}  // namespace

RunOutcome finetune(const FinetuneRun& run) {
  const config::Recipe& recipe = *run.context.recipe;
  const auto& start = *run.start;
  const task::Task& task = *run.data->task;
  const FinetuneSettings settings(recipe, task, start.pretrained());
  auto options = SessionOptions::from_recipe(recipe, "lower finetune.stage_lrs");
  options.grad_clip = recipe.number("finetune.grad_clip");
  TrainingSession session(run.context, std::move(options), "finetune");
  Finetuning f{.run = run,
               .settings = settings,
               .session = session,
               .task = task,
               .model = nullptr,
               .groups = {},
               .encoder_description = {},
               .task_description = {}};
  Classifier classifier = build_classifier(run, session.options().bf16);
  f.model = classifier.model;
  f.encoder_description = std::move(classifier.encoder_description);
  f.task_description = std::move(classifier.task_description);
  f.autocast = classifier.autocast;
  f.groups = f.model->layer_groups();
  session.attach(*f.model, f.groups, 1e-3);

  // Every epoch has as many batches (only their order changes); each rank takes 1 of `ranks`.
  f.per_epoch = static_cast<std::int64_t>(
                    plan_epoch(f.train(), settings, session.options().seed, 0).batches.size()) /
                session.ranks();
  if (f.per_epoch == 0) {
    throw Error("the train split has " + std::to_string(f.train().size()) +
                " example(s): too few to train on (at least 2 per rank and batch are needed)");
  }
  f.lr_plan = settings.lr_plan(f.per_epoch, f.groups.size());
  if (session.resume()) {
    log("finetune")
        ->info("continuing at epoch {}, batch {}", session.state().epoch + 1,
               session.state().position);
  }
  announce(f);
  auto& state = session.state();
  while (!state.stopped_early && state.epoch < settings.total_epochs()) {
    if (!train_epoch(f)) {
      session.save_checkpoint();
      update_run_info(f);
      return session.interrupted();
    }
    end_epoch(f);
  }
  session.progress().finish();
  return test_and_finish(f);
}

void probe_classifier(const FinetuneRun& run, const std::function<void(LossProbe&)>& use) {
  const config::Recipe& recipe = *run.context.recipe;
  const task::Task& task = *run.data->task;
  const data::TaskExamples& train = run.data->train;
  const FinetuneSettings settings(recipe, task, run.start->pretrained());
  const auto options = SessionOptions::from_recipe(recipe, "");
  const std::uint64_t seed = options.seed;
  torch::manual_seed(seed);  // before the model is built, as the session seeds
  const Classifier classifier = build_classifier(run, options.bf16);
  const torch::Device device = training_device(options.device, 0);
  classifier.model->to(device);
  const auto groups = classifier.model->layer_groups();
  std::int64_t epoch = 0;
  std::size_t next = 0;
  EpochPlan plan = plan_epoch(train, settings, seed, epoch);
  if (plan.batches.empty()) {
    throw Error("the train split has " + std::to_string(train.size()) +
                " example(s): too few to train on (at least 2 per batch are needed)");
  }
  BatchOutputs batch;
  // Every group trains, as in the last stage of gradual unfreezing, each at the rate of the group
  // above / lr_div (1 for an encoder that was not pretrained).
  LossProbe probe{
      .model = classifier.model.get(),
      .device = device,
      .groups = groups,
      .relative_rates = group_learning_rates(1.0, groups.size(), groups.size(), settings.lr_div),
      .grad_clip = recipe.number("finetune.grad_clip"),  // as finetune() sets the session's
      .weight_decay = options.weight_decay,
      .next_loss = [&] {
        if (next == plan.batches.size()) {
          plan = plan_epoch(train, settings, seed, ++epoch);
          next = 0;
        }
        const auto& indices = plan.batches[next++];
        // Kept beyond the call: the probe's backward reads the batch's ids.
        batch = forward_batch(*classifier.model, train, plan, indices, device, classifier.autocast);
        const auto loss = task.loss(batch.outputs, train, indices);
        return ProbeLoss{.for_backward = loss, .value = loss.item<double>()};
      }};
  use(probe);
}

}  // namespace genolm::train
