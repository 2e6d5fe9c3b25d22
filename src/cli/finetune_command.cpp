// genolm finetune: recipe -> run folder -> labelled splits -> ULMFiT fine-tuning of a (pretrained)
// encoder with a pooling head.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "cli/data_parallel.h"
#include "cli/run_folder.h"
#include "data/corpus_from_recipe.h"
#include "data/task_data.h"
#include "genolm/error.h"
#include "genolm/tokenizers/tokenizer.h"
#include "io/labelled.h"
#include "models/model_factory.h"
#include "train/finetune_trainer.h"
#include "util/files.h"
#include "util/log.h"

namespace genolm::cli {
namespace {

struct FinetuneFlags {
  RecipeOptions recipe;
  bool resume = false;
};

bool may_change_on_resume(const std::string& key) {
  return key == "train.log_every" || key == "train.checkpoint_every" ||
         key == "train.keep_checkpoints" || key == "dist.timeout" || key == "dist.backend";
}

std::string describe_tokenizer(const nlohmann::json& manifest) {
  std::string text = manifest.at("kind").get<std::string>();
  for (const auto& [key, value] : manifest.at("parameters").items())
    text += " " + key + "=" + value.dump();
  return text + " (" + std::to_string(manifest.at("vocab_size").get<int>()) + " tokens)";
}

// A recipe that names a tokenizer (tokenizer.path, or [tokenizer] keys away from their defaults)
// must name the one the encoder was pretrained with: token ids mean nothing to another vocabulary.
void check_same_tokenizer(const config::Recipe& recipe, const nlohmann::json& encoder_manifest,
                          const std::filesystem::path& from) {
  const auto changed = recipe.differences(config::Recipe());
  bool names_one = !recipe.string("tokenizer.path").empty();
  for (const char* key :
       {"tokenizer.kind", "tokenizer.k", "tokenizer.stride", "tokenizer.vocab_size"}) {
    names_one = names_one || std::find(changed.begin(), changed.end(), key) != changed.end();
  }
  if (!names_one) return;
  nlohmann::json wanted;
  if (!recipe.string("tokenizer.path").empty()) {
    wanted = tokenizers::read_tokenizer_manifest(recipe.string("tokenizer.path"));
  } else {
    const auto made = data::tokenizer_from_recipe(recipe, {}, 1);
    wanted = {{"kind", made->kind()},
              {"parameters", made->parameters()},
              {"vocab_size", made->vocab_size()}};
  }
  if (wanted.at("kind") != encoder_manifest.at("kind") ||
      wanted.at("parameters") != encoder_manifest.at("parameters") ||
      wanted.at("vocab_size") != encoder_manifest.at("vocab_size")) {
    throw Error("encoder.from " + from.string() + " was pretrained with the tokenizer " +
                describe_tokenizer(encoder_manifest) + ", but the recipe asks for " +
                describe_tokenizer(wanted) +
                ": drop the [tokenizer] keys (the encoder's tokenizer comes along) or pretrain "
                "with this tokenizer");
  }
}

data::TaskExamples subset(const data::TaskExamples& all, const std::vector<std::size_t>& indices) {
  data::TaskExamples out;
  for (const std::size_t i : indices)
    data::append_example(all, i, out);
  return out;
}

int run_finetune(const FinetuneFlags& flags, const GlobalOptions& globals) {
  const config::Recipe recipe = flags.recipe.resolve();
  if (flags.recipe.dump) {
    std::cout << recipe.dump();
    return 0;
  }
  const int threads = globals.resolved_threads();
  at::set_num_threads(threads);
  if (recipe.string("task.train").empty()) {
    throw Error("task.train is empty: name the labelled training file (CSV, TSV or FASTA)");
  }

  // The encoder and its tokenizer: from a pretraining run, or new from the recipe.
  const std::filesystem::path from = recipe.string("encoder.from");
  std::unique_ptr<tokenizers::Tokenizer> tokenizer;
  nlohmann::json base_encoder;
  std::filesystem::path pretrained;
  if (!from.empty()) {
    if (!std::filesystem::exists(from / "model.json") ||
        !std::filesystem::exists(from / "encoder.pt")) {
      throw Error("encoder.from " + from.string() +
                  " is not a pretraining run folder (expected model.json and encoder.pt there)");
    }
    const auto manifest = tokenizers::read_tokenizer_manifest(from / "tokenizer");
    check_same_tokenizer(recipe, manifest, from);
    tokenizer = tokenizers::load_tokenizer(from / "tokenizer");
    base_encoder = read_json_file(from / "model.json").at("encoder");
    pretrained = from / "encoder.pt";
  } else {
    tokenizer = data::tokenizer_from_recipe(recipe, {}, threads);
    base_encoder = models::encoder_description(recipe, tokenizer->vocab_size());
  }
  const auto encoder =
      models::classifier_encoder_description(base_encoder, recipe.number("model.drop_mult"));

  auto job = join_data_parallel(recipe, globals);
  const auto logger = log("finetune");
  std::filesystem::path run_dir;
  if (job.writer()) {
    run_dir = open_run_folder(recipe, flags.recipe, flags.resume, may_change_on_resume);
    logger->info("run folder {} ({})", run_dir.string(), flags.resume ? "resuming" : "new run");
    if (!std::filesystem::exists(run_dir / "tokenizer")) tokenizer->save(run_dir / "tokenizer");
  } else {
    run_dir = std::filesystem::path(recipe.string("run.dir")) / run_name(recipe, flags.recipe);
  }
  job.comm->barrier();  // the run folder exists for every rank from here

  // The labelled splits.
  const bool classify = recipe.string("task.kind") == "classification";
  io::LabelledSpec columns;
  columns.sequence_columns = recipe.strings("task.sequence_columns");
  columns.label_columns = recipe.strings("task.label_columns");
  columns.id_column = recipe.string("task.id_column");
  if (columns.label_columns.empty() || (classify && columns.label_columns.size() != 1)) {
    throw Error("task.label_columns names " + std::to_string(columns.label_columns.size()) +
                " columns: classification takes one, regression one or more");
  }
  const std::filesystem::path train_file = recipe.string("task.train");
  const auto train_records = io::read_labelled(train_file, columns);
  data::LabelScheme scheme;
  scheme.kind = classify ? data::TaskKind::classification : data::TaskKind::regression;
  if (classify) {
    scheme.classes = recipe.strings("task.classes");
    if (scheme.classes.empty()) scheme.classes = data::distinct_classes(train_records);
    if (scheme.classes.size() < 2) {
      throw Error(train_file.string() + ": column '" + columns.label_columns[0] +
                  "' holds a single class; classification needs two at least");
    }
  } else {
    scheme.targets = columns.label_columns;
  }
  const bool rc = recipe.boolean("task.rc_augment") || recipe.boolean("task.rc_average");
  const data::EncodeOptions encode{.with_labels = true, .reverse_complement = rc};
  const auto all_train =
      data::encode_examples(train_records, *tokenizer, scheme, train_file, encode);

  const double valid_fraction =
      recipe.string("task.valid").empty() ? recipe.number("task.valid_fraction") : 0.0;
  const double test_fraction =
      recipe.string("task.test").empty() ? recipe.number("task.test_fraction") : 0.0;
  const std::vector<std::int64_t> strata =
      classify ? all_train.classes : std::vector<std::int64_t>(all_train.size(), 0);
  const auto split = data::stratified_split(strata, valid_fraction, test_fraction,
                                            static_cast<std::uint64_t>(recipe.integer("run.seed")));
  const auto train = subset(all_train, split.train);
  const auto from_file_or_split = [&](const char* key, const std::vector<std::size_t>& indices,
                                      const char* fraction_key) {
    const std::filesystem::path file = recipe.string(key);
    if (!file.empty()) {
      return data::encode_examples(io::read_labelled(file, columns), *tokenizer, scheme, file,
                                   encode);
    }
    if (indices.empty() && recipe.number(fraction_key) > 0) {
      std::ostringstream why;
      why << fraction_key << " " << recipe.number(fraction_key) << " of " << all_train.size()
          << " examples in " << train_file.string() << " leaves the split empty: raise it or name "
          << key;
      throw Error(why.str());
    }
    return subset(all_train, indices);
  };
  const auto valid = from_file_or_split("task.valid", split.valid, "task.valid_fraction");
  const auto test = from_file_or_split("task.test", split.test, "task.test_fraction");
  if (valid.size() == 0) {
    throw Error("the valid split is empty: set task.valid or a task.valid_fraction above 0");
  }
  if (train.size() < 2) {
    throw Error("the train split of " + train_file.string() + " has " +
                std::to_string(train.size()) + " example(s): too few to train on");
  }

  train::TargetScaling scaling;
  const auto& range = recipe.numbers("task.output_range");
  if (!range.empty() && (range.size() != 2 || !(range[0] < range[1]))) {
    throw Error("task.output_range must be [low, high] with low < high");
  }
  if (!classify && range.empty() && recipe.boolean("task.normalize_targets")) {
    const std::size_t width = scheme.targets.size();
    scaling.mean.assign(width, 0.0);
    scaling.deviation.assign(width, 0.0);
    const double n = static_cast<double>(train.size());
    for (std::size_t i = 0; i < train.targets.size(); ++i)
      scaling.mean[i % width] += train.targets[i] / n;
    for (std::size_t i = 0; i < train.targets.size(); ++i)
      scaling.deviation[i % width] += std::pow(train.targets[i] - scaling.mean[i % width], 2) / n;
    for (auto& deviation : scaling.deviation)
      deviation = deviation > 0 ? std::sqrt(deviation) : 1.0;
  }

  const bool transformer = encoder.at("arch") == "transformer";
  nlohmann::json task = {
      {"kind", classify ? "classification" : "regression"},
      {"outputs", scheme.outputs()},
      {"head",
       {{"hidden_size", recipe.integer("head.hidden_size")},
        {"hidden_layers", recipe.integer("head.hidden_layers")},
        {"dropout", recipe.number("head.dropout")},
        {"output_range", range.empty() ? nlohmann::json(nullptr) : nlohmann::json(range)}}},
      {"chunk",
       transformer ? encoder.at("context").get<std::int64_t>() : recipe.integer("train.bptt")},
      {"max_len", recipe.integer("task.max_len")},
      {"rc_average", recipe.boolean("task.rc_average")},
      {"precision", recipe.string("train.precision")},
      {"columns",
       {{"sequence", columns.sequence_columns},
        {"label", columns.label_columns},
        {"id", columns.id_column}}}};
  if (classify)
    task["classes"] = scheme.classes;
  else
    task["targets"] = scheme.targets;
  if (scaling.active())
    task["scaling"] = {{"mean", scaling.mean}, {"deviation", scaling.deviation}};

  train::FinetuneRun run;
  run.dir = run_dir;
  run.recipe = &recipe;
  run.scheme = scheme;
  run.train = &train;
  run.valid = &valid;
  run.test = &test;
  run.encoder = encoder;
  run.task = task;
  run.scaling = scaling;
  run.pretrained = pretrained;
  run.tokenizer = tokenizers::read_tokenizer_manifest(run_dir / "tokenizer");
  run.resume = flags.resume;
  run.comm = job.comm.get();
  const auto outcome = train::finetune(run);
  if (job.writer()) std::cout << "report: " << (run_dir / "report.html").string() << "\n";
  return outcome == train::RunOutcome::finished ? 0 : 130;
}

}  // namespace

void register_finetune(CLI::App& app, Action& action, const GlobalOptions& globals) {
  auto flags = std::make_shared<FinetuneFlags>();
  auto* command =
      app.add_subcommand("finetune", "fine-tune for classification or regression (ULMFiT)");
  flags->recipe.add_to(*command);
  command->add_flag("--resume", flags->resume,
                    "continue the run named by the recipe from its latest checkpoint");
  command->callback([&action, &globals, flags] {
    action = [&globals, flags] { return run_finetune(*flags, globals); };
  });
}

}  // namespace genolm::cli
