#include "train/lm_trainer.h"

#include <torch/torch.h>

#include <cmath>
#include <random>
#include <sstream>

#include "data/lm_stream.h"
#include "genolm/error.h"
#include "models/model_factory.h"
#include "report/report_html.h"
#include "train/device.h"
#include "train/lm_baselines.h"
#include "train/lr_plan.h"
#include "train/module_file.h"
#include "train/precision.h"
#include "util/log.h"

namespace genolm::train {
namespace {

// The recipe keys only language-model training reads.
struct LmSettings {
  std::int64_t batch = 0;
  std::int64_t bptt = 0;
  bool random_bptt = true;
  bool random_windows = false;
  bool backward = false;
  std::int64_t accumulate = 1;
  std::int64_t epochs = 1;
  std::int64_t max_steps = 0;
  std::int64_t eval_every = 0;
  std::int64_t eval_tokens = 0;
  double ar_alpha = 0, tar_beta = 0;

  explicit LmSettings(const config::Recipe& r)
      : batch(r.integer("train.batch_size")),
        bptt(r.integer("train.bptt")),
        random_bptt(r.boolean("train.random_bptt")),
        random_windows(r.string("train.windows") == "random"),
        backward(r.boolean("data.backward")),
        accumulate(r.integer("train.accumulate")),
        epochs(r.integer("train.epochs")),
        max_steps(r.integer("train.max_steps")),
        eval_every(r.integer("train.eval_every")),
        eval_tokens(r.integer("train.eval_tokens")),
        ar_alpha(r.number("train.ar_alpha")),
        tar_beta(r.number("train.tar_beta")) {}
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

// The model, its settings and its device: what a forward pass needs.
struct LmModel {
  std::shared_ptr<models::Encoder> encoder;
  std::shared_ptr<models::LanguageModel> model;
  const LmSettings& settings;
  bool autocast = false;  // bf16 by autocast (else by the encoder's own cast, or fp32)
  torch::Device device = torch::kCPU;

  std::int64_t window() const { return encoder->window(settings.bptt); }
  models::LmLoss loss(data::LmBatch& batch) const {
    Bf16Autocast bf16(autocast, device.type());
    return model->loss(as_tensor(batch.inputs, batch.rows, batch.steps, device),
                       as_tensor(batch.targets, batch.rows, batch.steps, device));
  }
  // A stateless encoder starts every batch afresh.
  void after_batch() const {
    if (!encoder->carries_state()) encoder->reset();
  }
};

// Next-token loss and accuracy on (the first eval_tokens of) the valid split, with dropout off and
// the training state of the encoder put back afterwards. It draws no random numbers, so evaluating
// more or less often never changes the training that follows.
Evaluation evaluate(const LmModel& lm, const data::TokenSplit& valid) {
  Evaluation result;
  const auto window = static_cast<std::uint64_t>(lm.window());
  const std::int64_t rows = static_cast<std::int64_t>(
      std::clamp<std::uint64_t>(valid.size() / (window + 1), 1, lm.settings.batch));
  if (valid.size() < 2) return result;
  const auto saved = lm.encoder->state();
  lm.encoder->reset();
  lm.model->eval();
  {
    torch::NoGradGuard no_grad;
    data::LmStream stream(valid, rows, lm.settings.backward);
    data::LmBatch batch;
    double loss_sum = 0, correct = 0;
    const auto limit = static_cast<std::uint64_t>(lm.settings.eval_tokens);
    while ((limit == 0 || result.tokens < limit) &&
           stream.next(static_cast<std::int64_t>(window), batch)) {
      const auto loss = lm.loss(batch);
      const auto count = static_cast<std::uint64_t>(batch.rows * batch.steps);
      loss_sum += loss.cross_entropy.item<double>() * static_cast<double>(count);
      correct += loss.correct.item<double>();
      result.tokens += count;
      lm.after_batch();
    }
    if (result.tokens > 0) {
      result.loss = loss_sum / static_cast<double>(result.tokens);
      result.accuracy = correct / static_cast<double>(result.tokens);
    }
  }
  lm.model->train();
  lm.encoder->set_state(saved);
  return result;
}

// This rank's rows of the training stream, read in windows (a stateless encoder, optionally at
// random places) or in truncated-BPTT steps of fastai's randomised length.
class LmLoader {
 public:
  LmLoader(const data::TokenSplit& train, const LmModel& lm, int rank, int ranks)
      : lm_(lm),
        stream_(train, lm.settings.batch, lm.settings.backward, rank * (lm.settings.batch / ranks),
                lm.settings.batch / ranks),
        rng_(0) {}

  void seed(std::uint64_t seed) { rng_.seed(seed); }
  data::LmStream& stream() { return stream_; }
  std::mt19937_64& rng() { return rng_; }

  std::int64_t steps_per_epoch() const {
    const auto batches = static_cast<std::int64_t>((stream_.stream_length() - 1) /
                                                   static_cast<std::uint64_t>(lm_.window()));
    return std::max<std::int64_t>(1, batches / lm_.settings.accumulate);
  }

  // The next batch; at the end of the stream a new pass starts from the top with fresh state.
  void next(data::LmBatch& batch, TrainingState& state) {
    const auto& settings = lm_.settings;
    if (settings.random_windows && !lm_.encoder->carries_state()) {
      stream_.random_windows(lm_.window(), rng_, batch);
      return;
    }
    const std::int64_t steps = lm_.encoder->carries_state() && settings.random_bptt
                                   ? data::random_bptt(settings.bptt, rng_)
                                   : lm_.window();
    if (!stream_.next(steps, batch)) {
      ++state.epoch;
      stream_.set_position(0);
      lm_.encoder->reset();
      stream_.next(steps, batch);
    }
  }

 private:
  const LmModel& lm_;
  data::LmStream stream_;
  std::mt19937_64 rng_;
};

// The card lists the language model's weights once the file exists (export_model): from the first
// checkpoint on, or, for a folder written before the file existed, once the run is resumed.
run::ModelCard model_card(const PretrainRun& run, const nlohmann::json& encoder, bool backward) {
  run::ModelCard card;
  card.produced_by = std::string("genolm pretrain ") + GENOLM_VERSION;
  card.encoder = encoder;
  card.tokenizer = run::tokenizer_card(*run.tokenizer);
  card.direction = backward ? run::ReadingDirection::backward : run::ReadingDirection::forward;
  card.task = "language_model";
  card.has_language_model = false;
  return card;
}

// The run's model files: the encoder alone, for fine-tuning and embeddings; the whole language
// model, for scoring. The card says so once they exist.
void export_model(TrainingSession& session, const LmModel& lm, run::ModelCard& card) {
  if (!session.writer()) return;
  save_module_file(*lm.encoder, session.layout().encoder_weights());
  save_module_file(*lm.model, session.layout().language_model_weights());
  if (!card.has_language_model) {
    card.has_language_model = true;
    session.write_model_card(card);
  }
}

void save_checkpoint(TrainingSession& session, LmLoader& loader, const LmModel& lm,
                     run::ModelCard& card) {
  auto& state = session.state();
  state.position = loader.stream().position();
  std::ostringstream rng_text;
  rng_text << loader.rng();
  state.loader_rng = rng_text.str();
  state.carried = lm.encoder->state();
  session.save_checkpoint();
  export_model(session, lm, card);
}

void restore_loader(const TrainingState& state, LmLoader& loader, const LmModel& lm) {
  std::istringstream(state.loader_rng) >> loader.rng();
  loader.stream().set_position(state.position);
  lm.encoder->set_state(state.carried);
}

void log_evaluation(TrainingSession& session, const LmModel& lm, const data::TokenSplit& valid,
                    const LmBaselines& baselines) {
  const Evaluation eval = evaluate(lm, valid);
  if (eval.tokens > 0) {
    session.append_metrics({{"step", session.state().step},
                            {"split", "valid"},
                            {"loss", eval.loss},
                            {"perplexity", std::exp(eval.loss)},
                            {"accuracy", eval.accuracy},
                            {"tokens", eval.tokens},
                            {"wall_s", session.wall_seconds()}});
    session.progress().clear();
    log("train")->info("step {} valid loss {:.4f} perplexity {:.3f} accuracy {:.4f}; {}",
                       session.state().step, eval.loss, std::exp(eval.loss), eval.accuracy,
                       verdict(baselines, eval.loss));
  }
  report::write_run_report(session.layout().dir());
  session.window().start = std::chrono::steady_clock::now();  // evaluation is not training time
}

void log_train(TrainingSession& session, LmLoader& loader, double lr, double grad_norm,
               std::int64_t total_steps) {
  const auto& window = session.window();
  const auto& stream = loader.stream();
  const double epoch = static_cast<double>(session.state().epoch) +
                       static_cast<double>(stream.position()) / stream.stream_length();
  char line[160];
  std::snprintf(line, sizeof line, "step %lld/%lld loss %.4f lr %.2e %.0f tok/s",
                static_cast<long long>(session.state().step), static_cast<long long>(total_steps),
                window.mean_loss(), lr, window.tokens_per_s());
  session.log_train_row(
      lr, grad_norm,
      {{"epoch", epoch},
       {"loader_tokens_per_s",
        window.load_seconds > 0 ? static_cast<double>(window.tokens) / window.load_seconds : 0.0},
       {"comm_wait_s", session.comm().waiting_time().count()}},
      line);
}

// ULMFiT's stage 2 continues the parent's language model as it is: its description, on a corpus of
// its tokens (the command checked the direction).
nlohmann::json stage_two_description(const run::PretrainedRun& parent,
                                     const data::TokenCorpus& corpus) {
  const auto& description = parent.card.encoder;
  const auto card = parent.layout.model_card().string();
  if (description.value("vocab_size", std::int64_t{0}) != corpus.vocab_size()) {
    throw Error(card + " describes a model of " +
                description.value("vocab_size", nlohmann::json()).dump() +
                " tokens, but the corpus holds " + std::to_string(corpus.vocab_size()) +
                ": init.from and the corpus must share a tokenizer");
  }
  return description;
}

// run.json, model.json and the opening log lines.
void announce(TrainingSession& session, const PretrainRun& run, const nlohmann::json& description,
              const LmModel& lm, std::int64_t per_epoch, const LrPlan& lr_plan,
              const run::ModelCard& card, const LmBaselines& baselines) {
  const std::int64_t total_steps = lr_plan.total_steps();
  const double prior = run.tokenizer->stride_prior();
  session.write_run_info(
      description,
      {{"stride_prior", std::isnan(prior) ? nlohmann::json(nullptr) : nlohmann::json(prior)},
       {"baselines", to_json(baselines)},
       {"init_from", run.init ? nlohmann::json(run.init->layout.dir().string()) : nlohmann::json()},
       {"tokenizer", run.corpus->manifest().at("tokenizer")},
       {"lr_plan", lr_plan.to_json()}},
      total_steps);
  session.write_model_card(card);
  log("train")->info(
      "{} with {} parameters on {}; {} steps ({} per epoch), batch {} x {} tokens, {} threads{}",
      description.at("arch").get<std::string>(), session.parameter_count(), session.device().str(),
      total_steps, per_epoch, lm.settings.batch, lm.window(), at::get_num_threads(),
      session.ranks() > 1 ? " per rank, " + std::to_string(session.ranks()) + " ranks" : "");
  log("train")->info("{}", describe(baselines));
  const auto eval_tokens = static_cast<std::uint64_t>(lm.settings.eval_tokens);
  if (eval_tokens > 0 && eval_tokens < baselines.valid_tokens) {
    log("train")->info(
        "the model is evaluated on the first {} of the {} valid tokens the baselines score "
        "(train.eval_tokens)",
        eval_tokens, baselines.valid_tokens);
  }
}

// One optimizer step over `accumulate` micro-batches; returns the step's mean loss on this rank
// and counts its tokens.
double accumulate_gradients(TrainingSession& session, LmLoader& loader, const LmModel& lm,
                            data::LmBatch& batch, std::uint64_t& tokens) {
  const std::int64_t micro_batches = lm.settings.accumulate;
  double step_loss = 0;
  for (std::int64_t micro = 0; micro < micro_batches; ++micro) {
    const auto load_start = std::chrono::steady_clock::now();
    loader.next(batch, session.state());
    // The loader's own time: training should never wait on it (bench/RESULTS.md).
    session.window().load_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
    const auto loss = lm.loss(batch);
    session.prepare_backward(micro + 1 == micro_batches);
    (loss.total / static_cast<double>(micro_batches)).backward();
    step_loss += loss.cross_entropy.item<double>() / static_cast<double>(micro_batches);
    tokens += static_cast<std::uint64_t>(batch.rows * batch.steps);
    lm.after_batch();
  }
  return step_loss;
}

// The language model as a run starts it: a new one of the recipe's [model], or init.from's with its
// weights (ULMFiT's stage 2); in train mode, on the CPU.
struct BuiltLanguageModel {
  nlohmann::json description;
  std::shared_ptr<models::Encoder> encoder;
  std::shared_ptr<models::LanguageModel> model;
  bool autocast = false;  // bf16 by autocast (else by the encoder's own cast, or fp32)
};

BuiltLanguageModel build_language_model(const PretrainRun& run, const LmSettings& settings,
                                        bool bf16) {
  BuiltLanguageModel built;
  built.description =
      run.init ? stage_two_description(*run.init, *run.corpus)
               : models::encoder_description(*run.context.recipe, run.corpus->vocab_size());
  built.encoder = models::make_encoder(built.description);
  built.encoder->set_bf16(bf16 && built.encoder->bf16_mode() == models::Bf16Mode::explicit_cast);
  built.autocast = bf16 && built.encoder->bf16_mode() == models::Bf16Mode::autocast;
  built.model = models::make_language_model(built.encoder, built.description, settings.ar_alpha,
                                            settings.tar_beta);
  if (run.init) {
    // Before the session shares rank 0's weights and before a resume replaces them.
    load_module_file(*built.model, run.init->weights);
    log("train")->info("starting from the language model of {} ({})",
                       run.init->layout.dir().string(), run.init->weights.string());
  }
  built.model->train();
  return built;
}

RunOutcome run_steps(TrainingSession& session, LmLoader& loader, const LmModel& lm,
                     const LrPlan& lr_plan, const data::TokenSplit& valid, run::ModelCard& card,
                     const LmBaselines& baselines) {
  auto& state = session.state();
  data::LmBatch batch;
  const std::int64_t total_steps = lr_plan.total_steps();
  bool finished = state.step >= total_steps, stop = false;
  while (!finished && !stop) {
    const LrRates rates = lr_plan.at(state.step);
    session.set_learning_rates(rates.lr, rates.beta1);
    std::uint64_t tokens = 0;
    const double loss = accumulate_gradients(session, loader, lm, batch, tokens);
    const StepResult step = session.finish_step(loss, tokens, 0);
    session.update_progress();
    finished = state.step >= total_steps;
    stop = step.stop;
    if (session.log_due(finished))
      log_train(session, loader, rates.lr.front(), step.grad_norm, total_steps);
    if (session.writer() && (state.step % lm.settings.eval_every == 0 || finished))
      log_evaluation(session, lm, valid, baselines);
    if (session.checkpoint_due() || finished) save_checkpoint(session, loader, lm, card);
  }
  if (!finished) {
    save_checkpoint(session, loader, lm, card);
    return session.interrupted();
  }
  // A finished run resumed from a folder written before the language model was saved exports it.
  if (!card.has_language_model) export_model(session, lm, card);
  session.progress().finish();
  session.finish("finished");
  log("train")->info("finished at step {}: {}", state.step, session.layout().report().string());
  return RunOutcome::finished;
}

}  // namespace

RunOutcome train_language_model(const PretrainRun& run) {
  const config::Recipe& recipe = *run.context.recipe;
  const LmSettings settings(recipe);
  TrainingSession session(run.context, SessionOptions::from_recipe(recipe, "lower train.lr"),
                          "train");
  const BuiltLanguageModel built = build_language_model(run, settings, session.options().bf16);
  const auto& description = built.description;
  // Data parallel: every rank reads its own rows of the global batch.
  if (settings.batch % session.ranks() != 0) {
    throw Error("train.batch_size " + std::to_string(settings.batch) +
                " does not split evenly over " + std::to_string(session.ranks()) +
                " ranks (the global batch is divided by rows)");
  }
  session.attach(*built.model, {built.model->parameters()}, recipe.number("train.lr"));
  const LmModel lm{built.encoder, built.model, settings, built.autocast, session.device()};

  LmLoader loader(run.corpus->train(), lm, session.rank(), session.ranks());
  loader.seed(session.options().seed);
  const std::int64_t per_epoch = loader.steps_per_epoch();
  const std::int64_t total_steps = settings.max_steps > 0
                                       ? settings.max_steps
                                       : std::max<std::int64_t>(1, settings.epochs * per_epoch);
  // One group, one stage: the language model trains whole on one schedule.
  const LrPlan lr_plan{
      .shape = {.kind = recipe.string("train.schedule"), .warmup = recipe.number("train.warmup")},
      .groups = {"model"},
      .stages = {{.steps = total_steps, .lr = recipe.number("train.lr")}}};
  if (session.resume()) restore_loader(session.state(), loader, lm);
  auto card = model_card(run, description, settings.backward);
  card.has_language_model =
      run::existing_weights(session.layout().language_model_weights()).has_value();
  // Only the writer logs and writes run.json; the others need no baselines.
  const LmBaselines baselines = session.writer()
                                    ? lm_baselines(*run.corpus, *run.tokenizer, settings.backward)
                                    : LmBaselines{};
  announce(session, run, description, lm, per_epoch, lr_plan, card, baselines);
  return run_steps(session, loader, lm, lr_plan, run.corpus->valid(), card, baselines);
}

void probe_language_model(const PretrainRun& run, const std::function<void(LossProbe&)>& use) {
  const config::Recipe& recipe = *run.context.recipe;
  const LmSettings settings(recipe);
  const auto options = SessionOptions::from_recipe(recipe, "");
  torch::manual_seed(options.seed);  // before the model is built, as the session seeds
  const BuiltLanguageModel built = build_language_model(run, settings, options.bf16);
  const torch::Device device = training_device(options.device, 0);
  built.model->to(device);
  const LmModel lm{built.encoder, built.model, settings, built.autocast, device};
  LmLoader loader(run.corpus->train(), lm, 0, 1);
  loader.seed(options.seed);
  TrainingState state;  // the loader counts its passes there
  data::LmBatch batch;
  LossProbe probe{.model = built.model.get(),
                  .device = device,
                  .groups = {built.model->parameters()},
                  .relative_rates = {1.0},
                  .grad_clip = options.grad_clip,
                  .weight_decay = options.weight_decay,
                  .next_loss = [&] {
                    lm.after_batch();  // the previous batch is done
                    loader.next(batch, state);
                    const auto loss = lm.loss(batch);
                    // Backward takes AR/TAR; the curve records the next-token loss, as the run
                    // logs.
                    return ProbeLoss{.for_backward = loss.total,
                                     .value = loss.cross_entropy.item<double>()};
                  }};
  use(probe);
}

}  // namespace genolm::train
