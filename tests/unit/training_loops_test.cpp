// The training loops through their seam (train/session.h): a few steps of a tiny model in this
// process, for the language model and for fine-tuning, and what the run folder holds afterwards.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <sstream>

#include "config/recipe.h"
#include "data/corpus_builder.h"
#include "data/token_corpus.h"
#include "genolm/error.h"
#include "genolm/tokenizers/kmer.h"
#include "io/labelled.h"
#include "models/model_factory.h"
#include "report/metrics_log.h"
#include "run/model_card.h"
#include "run/run_layout.h"
#include "support/test_files.h"
#include "support/torch_threads.h"
#include "task/finetune_data.h"
#include "train/encoder_start.h"
#include "train/finetune_trainer.h"
#include "train/inference.h"
#include "train/lm_trainer.h"
#include "train/model_folder.h"
#include "train/module_file.h"
#include "util/files.h"

namespace genolm::train {
namespace {

config::Recipe tiny_recipe(const std::vector<std::string>& assignments) {
  config::Recipe recipe;
  for (const char* assignment :
       {"model.emb_size=16", "model.hidden_size=24", "model.layers=2", "train.batch_size=4",
        "train.bptt=12", "train.log_every=2", "train.eval_every=4", "train.checkpoint_every=4",
        "train.eval_tokens=2000", "train.device=cpu", "train.lr=0.01"})
    recipe.set(assignment);
  for (const auto& assignment : assignments)
    recipe.set(assignment);
  return recipe;
}

std::vector<nlohmann::json> rows_of(const run::RunLayout& layout, const std::string& split) {
  std::vector<nlohmann::json> rows;
  for (auto& row : report::read_metrics(layout.metrics()))
    if (row.at("split") == split) rows.push_back(row);
  return rows;
}

// What a training command hands its loop: the run folder, made with the tokenizer in it.
RunContext run_context(const std::filesystem::path& dir, const config::Recipe& recipe,
                       const tokenizers::Tokenizer& tokenizer, bool resume) {
  const run::RunLayout layout(dir);
  std::filesystem::create_directories(layout.dir());
  if (!std::filesystem::exists(layout.tokenizer())) tokenizer.save(layout.tokenizer());
  return {.layout = layout, .recipe = &recipe, .resume = resume, .comm = nullptr};
}

class LanguageModelLoop : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_text(dir_ / "genome.fa", test::fasta_record("chr", test::tandem_repeats(20000, 3)));
    data::CorpusOptions options;
    options.inputs = {dir_ / "genome.fa"};
    options.out = dir_ / "corpus";
    options.valid_fraction = 0.1;
    options.valid_block_bases = 1000;
    data::build_corpus(tokenizer_, options);
  }

  RunOutcome train(const std::string& name, const config::Recipe& recipe, bool resume = false) {
    const data::TokenCorpus corpus(dir_ / "corpus");
    return train_language_model({.context = run_context(dir_ / name, recipe, tokenizer_, resume),
                                 .corpus = &corpus,
                                 .tokenizer = &tokenizer_});
  }

  test::ScopedTorchThreads threads_{1};
  test::TempDir dir_;
  tokenizers::KmerTokenizer tokenizer_{3, 1};
};

TEST_F(LanguageModelLoop, TrainsLogsEvaluatesAndLeavesTheWholeLanguageModel) {
  const auto recipe = tiny_recipe({"train.max_steps=16"});
  ASSERT_EQ(train("lm", recipe), RunOutcome::finished);
  const run::RunLayout layout(dir_ / "lm");
  const auto train_rows = rows_of(layout, "train"), valid_rows = rows_of(layout, "valid");
  ASSERT_EQ(train_rows.size(), 8u);  // every 2 steps
  ASSERT_EQ(valid_rows.size(), 4u);  // every 4 steps
  EXPECT_EQ(train_rows.back().at("step"), 16);
  EXPECT_LT(train_rows.back().at("loss").get<double>(),
            train_rows.front().at("loss").get<double>());
  EXPECT_LT(valid_rows.back().at("loss").get<double>(), std::log(64.0));

  const auto card = run::read_model_card(layout.model_card());
  EXPECT_EQ(card.version, run::kModelCardVersion);
  EXPECT_FALSE(card.fine_tuned());
  EXPECT_TRUE(card.has_language_model);
  EXPECT_EQ(card.direction, run::ReadingDirection::forward);
  EXPECT_EQ(card.tokenizer.at("vocabulary").size(),
            static_cast<std::size_t>(tokenizer_.vocab_size()));
  EXPECT_EQ(read_json_file(layout.run_json()).at("status"), "finished");

  // The exported language model scores a sequence without the checkpoints: it loads into a model
  // rebuilt from the card and predicts the held-out tokens as the last evaluation did, better
  // than a fresh model does.
  auto rebuilt = [&] {
    auto encoder = models::make_encoder(card.encoder);
    return models::make_language_model(encoder, card.encoder, 0, 0);
  };
  auto trained = rebuilt(), fresh = rebuilt();
  load_module_file(*trained, layout.language_model_weights());
  trained->eval();
  fresh->eval();
  // The folder's reader rebuilds the same language model.
  auto folder = load_model_folder(layout.dir());
  ASSERT_TRUE(folder.language_model);
  const auto ids = tokenizer_.encode(test::tandem_repeats(400, 3));
  const auto input =
      torch::tensor(std::vector<std::int64_t>(ids.begin(), ids.end() - 1)).view({1, -1});
  const auto target =
      torch::tensor(std::vector<std::int64_t>(ids.begin() + 1, ids.end())).view({1, -1});
  torch::NoGradGuard no_grad;
  const double loss = trained->loss(input, target).cross_entropy.item<double>();
  EXPECT_LT(loss, fresh->loss(input, target).cross_entropy.item<double>());
  EXPECT_EQ(folder.language_model->loss(input, target).cross_entropy.item<double>(), loss);
}

TEST_F(LanguageModelLoop, StoppingAndResumingGivesTheRunThatNeverStopped) {
  // Cut at step 8 by max_steps, then resumed to 12 (max_steps may change on resume), against 12
  // straight. The schedule is constant: one_cycle's shape depends on the length of the run.
  ASSERT_EQ(train("constant", tiny_recipe({"train.max_steps=12", "train.schedule=constant"})),
            RunOutcome::finished);
  ASSERT_EQ(train("constant_cut", tiny_recipe({"train.max_steps=8", "train.schedule=constant"})),
            RunOutcome::finished);
  ASSERT_EQ(train("constant_cut", tiny_recipe({"train.max_steps=12", "train.schedule=constant"}),
                  /*resume=*/true),
            RunOutcome::finished);
  const auto straight = rows_of(run::RunLayout(dir_ / "constant"), "train");
  const auto resumed = rows_of(run::RunLayout(dir_ / "constant_cut"), "train");
  ASSERT_EQ(straight.size(), resumed.size());
  for (std::size_t i = 0; i < straight.size(); ++i) {
    EXPECT_EQ(straight[i].at("step"), resumed[i].at("step"));
    EXPECT_EQ(straight[i].at("loss").get<double>(), resumed[i].at("loss").get<double>())
        << "at step " << straight[i].at("step");
  }
}

class FinetuneLoop : public ::testing::Test {
 protected:
  // Sequences with a motif (class "yes") or without (class "no").
  void SetUp() override {
    std::string table = "id\tsequence\tlabel\n";
    for (int i = 0; i < 120; ++i) {
      std::string dna = test::random_dna(40, static_cast<unsigned>(i + 1));
      const bool yes = i % 2 == 0;
      if (yes) dna.replace(10, 8, "GATTACAG");
      table += "r" + std::to_string(i) + "\t" + dna + "\t" + (yes ? "yes" : "no") + "\n";
    }
    test::write_text(dir_ / "train.tsv", table);
  }

  config::Recipe recipe(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> assignments = {
        "tokenizer.kind=nucleotide",    "task.train=" + (dir_ / "train.tsv").string(),
        "finetune.stage_epochs=[2, 2]", "finetune.stage_lrs=[0.01, 0.005]",
        "train.batch_size=16",          "train.log_every=3"};
    assignments.insert(assignments.end(), extra.begin(), extra.end());
    return tiny_recipe(assignments);
  }

  RunOutcome finetune_in(const std::string& name, const config::Recipe& recipe) {
    const auto start = encoder_start(recipe, 1);
    const auto data = task::load_finetune_data(recipe, *start.tokenizer, start.backward());
    return finetune({.context = run_context(dir_ / name, recipe, *start.tokenizer, false),
                     .data = &data,
                     .start = &start});
  }

  test::ScopedTorchThreads threads_{1};
  test::TempDir dir_;
};

TEST_F(FinetuneLoop, TrainsEveryStageKeepsTheBestEpochAndTestsIt) {
  ASSERT_EQ(finetune_in("clf", recipe()), RunOutcome::finished);
  const run::RunLayout layout(dir_ / "clf");
  const auto valid = rows_of(layout, "valid"), test = rows_of(layout, "test");
  ASSERT_EQ(valid.size(), 4u);  // one per epoch
  ASSERT_EQ(test.size(), 1u);
  const auto run_json = read_json_file(layout.run_json());
  const auto best = run_json.at("task").at("best");
  ASSERT_TRUE(best.is_object());
  EXPECT_EQ(test[0].at("epoch"), best.at("epoch"));
  // The best epoch is the one with the highest valid accuracy.
  double highest = 0;
  for (const auto& row : valid)
    highest = std::max(highest, row.at("accuracy").get<double>());
  EXPECT_DOUBLE_EQ(best.at("value").get<double>(), highest);
  EXPECT_TRUE(std::filesystem::exists(layout.test_predictions()));

  // The folder loads as a model whose task predicts as the test row says.
  auto folder = load_model_folder(layout.dir());
  ASSERT_TRUE(folder.fine_tuned());
  EXPECT_EQ(folder.task->kind(), "classification");
  EXPECT_EQ(folder.task->scheme().classes, (std::vector<std::string>{"no", "yes"}));
  EXPECT_EQ(folder.card.version, run::kModelCardVersion);
}

// What fastai's classifier does with an encoder that was not pretrained: every layer group is new,
// so all train at the stage's rate (no discriminative division) from the first epoch, and nothing
// is clipped. Aligned inputs (every sequence 40 bases) get a head that sees each position.
TEST_F(FinetuneLoop, ANewEncoderTrainsAtOneRateAndAlignedInputsGetAPositionalHead) {
  ASSERT_EQ(finetune_in("scratch", recipe()), RunOutcome::finished);
  const run::RunLayout layout(dir_ / "scratch");
  const auto train_rows = rows_of(layout, "train");
  ASSERT_FALSE(train_rows.empty());
  for (const auto& row : train_rows) {
    const auto rates = row.at("group_lrs").get<std::vector<double>>();
    ASSERT_EQ(rates.size(), 4u);  // embedding, two layers, head
    for (const double rate : rates)
      EXPECT_DOUBLE_EQ(rate, row.at("lr").get<double>()) << row.dump();
  }
  const auto head = run::read_model_card(layout.model_card()).task.at("head");
  EXPECT_EQ(head.at("pooling"), "positions");
  EXPECT_EQ(head.at("positions"), 40);  // one nucleotide token per base

  // Sequences of several lengths are pooled, whatever their positions.
  std::string table = "id\tsequence\tlabel\n";
  for (int i = 0; i < 60; ++i) {
    table += "v" + std::to_string(i) + "\t" +
             test::random_dna(30 + static_cast<std::size_t>(i % 7), static_cast<unsigned>(i)) +
             "\t" + (i % 2 == 0 ? "yes" : "no") + "\n";
  }
  test::write_text(dir_ / "ragged.tsv", table);
  ASSERT_EQ(
      finetune_in("ragged", recipe({"task.train=" + (dir_ / "ragged.tsv").string(),
                                    "finetune.stage_epochs=[1]", "finetune.stage_lrs=[0.01]"})),
      RunOutcome::finished);
  const auto ragged_head =
      run::read_model_card(run::RunLayout(dir_ / "ragged").model_card()).task.at("head");
  EXPECT_EQ(ragged_head.at("pooling"), "concat");
}

TEST_F(FinetuneLoop, RegressionStandardisesTargetsAndReportsInTheirUnits) {
  std::string table = "id\tsequence\ty\n";
  for (int i = 0; i < 80; ++i) {
    const std::string dna = test::random_dna(30, static_cast<unsigned>(i + 7));
    const auto gc =
        std::count_if(dna.begin(), dna.end(), [](char c) { return c == 'G' || c == 'C'; });
    table += "r" + std::to_string(i) + "\t" + dna + "\t" + std::to_string(100 + 10 * gc) + "\n";
  }
  test::write_text(dir_ / "reg.tsv", table);
  const auto reg = recipe({"task.kind=regression", "task.train=" + (dir_ / "reg.tsv").string(),
                           "task.label_columns=y"});
  ASSERT_EQ(finetune_in("reg", reg), RunOutcome::finished);
  const auto card = run::read_model_card(run::RunLayout(dir_ / "reg").model_card());
  const auto& scaling = card.task.at("scaling");
  EXPECT_GT(scaling.at("mean")[0].get<double>(), 200.0);  // the targets' own mean, not 0
  const auto test = rows_of(run::RunLayout(dir_ / "reg"), "test");
  ASSERT_EQ(test.size(), 1u);
  EXPECT_TRUE(test[0].at("targets").contains("y"));
}

// Three labels per sequence: two motifs (a at every second row, b at every third) and one label
// without a signal, written as true/false.
std::string multilabel_table(int rows, int first) {
  std::string table = "id\tsequence\ta\tb\tc\n";
  for (int i = first; i < first + rows; ++i) {
    std::string dna = test::random_dna(40, static_cast<unsigned>(i + 101));
    const bool a = i % 2 == 0, b = i % 3 == 0, c = i % 5 == 0;
    if (a) dna.replace(4, 8, "GATTACAG");
    if (b) dna.replace(24, 8, "CCGGTTAA");
    table += "m" + std::to_string(i) + "\t" + dna + "\t" + (a ? "1" : "0") + "\t" +
             (b ? "1" : "0") + "\t" + (c ? "true" : "false") + "\n";
  }
  return table;
}

std::vector<std::vector<std::string>> tsv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> fields;
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, '\t');)
      fields.push_back(cell);
    rows.push_back(std::move(fields));
  }
  return rows;
}

TEST_F(FinetuneLoop, MultilabelWritesAProbabilityPerLabelAndItsFolderPredictsTheSame) {
  test::write_text(dir_ / "ml_train.tsv", multilabel_table(120, 0));
  test::write_text(dir_ / "ml_test.tsv", multilabel_table(30, 1000));
  const auto ml = recipe({"task.kind=multilabel", "task.label_columns=a,b,c",
                          "task.train=" + (dir_ / "ml_train.tsv").string(),
                          "task.test=" + (dir_ / "ml_test.tsv").string(),
                          "task.class_weights=balanced", "task.rc_average=true"});
  ASSERT_EQ(finetune_in("ml", ml), RunOutcome::finished);
  const run::RunLayout layout(dir_ / "ml");
  const auto valid = rows_of(layout, "valid"), test = rows_of(layout, "test");
  ASSERT_EQ(valid.size(), 4u);
  ASSERT_EQ(test.size(), 1u);
  EXPECT_TRUE(test[0].at("auroc").is_number());
  EXPECT_TRUE(test[0].at("loss").is_number());
  for (const char* label : {"a", "b", "c"})
    EXPECT_TRUE(test[0].at("labels").at(label).at("auroc").is_number()) << label;
  const auto run_json = read_json_file(layout.run_json());
  EXPECT_EQ(run_json.at("task").at("metric"), "auroc");
  EXPECT_EQ(run_json.at("task").at("labels"), nlohmann::json({"a", "b", "c"}));

  const auto written = tsv_rows(test::read_text(layout.test_predictions()));
  ASSERT_EQ(written.size(), 31u);
  EXPECT_EQ(written[0],
            (std::vector<std::string>{"id", "a", "b", "c", "prob_a", "prob_b", "prob_c"}));

  // The folder rebuilds the task from model.json and predicts what the run wrote.
  auto folder = load_model_folder(layout.dir());
  ASSERT_TRUE(folder.fine_tuned());
  EXPECT_EQ(folder.task->kind(), "multilabel");
  EXPECT_EQ(folder.task->scheme().targets, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(folder.rc_average);
  const auto examples = data::encode_examples(
      io::read_labelled(dir_ / "ml_test.tsv", folder.columns), *folder.tokenizer, folder.scheme(),
      dir_ / "ml_test.tsv", {.with_labels = true, .reverse_complement = true});
  const auto predictions =
      predict(*folder.classifier, examples, *folder.task, {.rc_average = folder.rc_average});
  ASSERT_EQ(predictions.width, 3u);
  ASSERT_EQ(predictions.values.size(), 90u);
  for (std::size_t row = 0; row < 30; ++row) {
    EXPECT_EQ(written[row + 1][0], examples.ids[row]);
    for (std::size_t label = 0; label < 3; ++label)
      EXPECT_NEAR(std::stod(written[row + 1][4 + label]), predictions.values[row * 3 + label], 1e-5)
          << "row " << row << " label " << label;
  }
  EXPECT_NEAR(folder.task->metrics(predictions, examples).at("auroc").get<double>(),
              test[0].at("auroc").get<double>(), 1e-9);
}

TEST(TaskKinds, AnUnknownKindIsAnErrorNamingTheKnownOnes) {
  const auto message = test::error_of([] { task::task_kind("variant_effect"); });
  EXPECT_NE(message.find("unknown task kind 'variant_effect'"), std::string::npos) << message;
  EXPECT_NE(message.find("classification, regression, multilabel"), std::string::npos) << message;
}

TEST(TaskKinds, TheRecipeSchemaOffersExactlyTheRegisteredKinds) {
  std::vector<std::string> registered, offered;
  for (const auto& entry : task::task_kinds())
    registered.emplace_back(entry.name);
  for (const auto choice : config::find_key("task.kind")->choices)
    offered.emplace_back(choice);
  EXPECT_EQ(registered, offered);
}

TEST(Session, ADivergingLossIsAnErrorWithTheLoopsHint) {
  test::ScopedTorchThreads threads{1};
  test::TempDir dir;
  auto recipe = tiny_recipe({});
  const RunContext context{
      .layout = run::RunLayout(dir.path()), .recipe = &recipe, .resume = false, .comm = nullptr};
  TrainingSession session(context, SessionOptions::from_recipe(recipe, "lower the moon"), "test");
  torch::nn::Linear model(2, 1);
  session.attach(*model, {model->parameters()}, 0.1);
  session.resume();
  session.set_learning_rates({0.1}, 0.9);
  session.prepare_backward(true);
  model->forward(torch::ones({1, 2})).sum().backward();
  const auto message =
      test::error_of([&] { session.finish_step(std::numeric_limits<double>::quiet_NaN(), 1, 1); });
  EXPECT_NE(message.find("lower the moon"), std::string::npos) << message;
  EXPECT_EQ(session.state().step, 1);
}

}  // namespace
}  // namespace genolm::train
