// genolm finetune, predict, evaluate and embed end to end on a task the test generates: DNA that
// holds a motif or not. A tiny language model is pretrained first, so the encoder.from path, the
// frozen stages of gradual unfreezing, resume and the inference commands are all exercised.
#include <gtest/gtest.h>
#include <signal.h>
#include <torch/serialize.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "io/safetensors.h"
#include "models/model_factory.h"
#include "report/svg_plot.h"
#include "support/genolm_cli.h"
#include "support/genolm_process.h"
#include "support/report_page.h"
#include "support/test_files.h"
#include "train/model_folder.h"
#include "train/module_file.h"
#include "train/tensor_file.h"

namespace genolm {
namespace {

const std::string kMotif = "GATTACAGATTACA";

// 50-nt sequences, half with the motif at a random place (label "yes"), half without ("no").
std::string motif_table(std::size_t rows, unsigned seed) {
  std::mt19937 rng(seed);
  std::string table = "id\tsequence\tlabel\n";
  for (std::size_t i = 0; i < rows; ++i) {
    std::string dna = test::random_dna(50, seed * 1000 + static_cast<unsigned>(i));
    const bool yes = i % 2 == 0;
    if (yes) dna.replace(rng() % (dna.size() - kMotif.size()), kMotif.size(), kMotif);
    // Appended piece by piece: GCC 12 sees a false -Wrestrict in "r" + std::to_string(...).
    table.append("r").append(std::to_string(seed)).append("_").append(std::to_string(i));
    table.append("\t").append(dna).append("\t").append(yes ? "yes" : "no").append("\n");
  }
  return table;
}

class Finetune : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    test::write_text(*dir_ / "genome.fa", test::fasta_record("genome", test::random_dna(60000, 5)));
    test::write_text(*dir_ / "train.tsv", motif_table(480, 1));
    test::write_text(*dir_ / "test.tsv", motif_table(160, 2));
    test::write_text(*dir_ / "lm.toml",
                     "[run]\nname = \"lm\"\ndir = \"" + (*dir_ / "runs").string() +
                         "\"\n[data]\ntrain = [\"" + (*dir_ / "genome.fa").string() +
                         "\"]\nvalid_fraction = 0.05\nvalid_block_bases = 2000\n"
                         "[model]\nemb_size = 24\nhidden_size = 48\nlayers = 2\n"
                         "[train]\ndevice = \"cpu\"\nbatch_size = 16\nbptt = 30\nmax_steps = 20\n");
    const int status = test::run_command(std::string(GENOLM_BINARY) +
                                             " --threads 2 --log-level warn pretrain --config " +
                                             (*dir_ / "lm.toml").string(),
                                         *dir_ / "out.txt", *dir_ / "err.txt");
    ASSERT_EQ(status, 0) << test::read_text(*dir_ / "err.txt");
    // The reference fine-tune every test reads.
    ASSERT_EQ(run("finetune --config " + recipe("motif").string()), 0) << err();
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  // A recipe fine-tuning the tiny language model; `extra` adds whole sections or keys at the end
  // (later keys of a section must come in their own [section] header).
  static std::filesystem::path recipe(const std::string& name, const std::string& extra = "") {
    const auto file = *dir_ / (name + ".toml");
    test::write_text(file, "[run]\nname = \"" + name + "\"\ndir = \"" + (*dir_ / "runs").string() +
                               "\"\nseed = 3\n[task]\ntrain = \"" + (*dir_ / "train.tsv").string() +
                               "\"\ntest = \"" + (*dir_ / "test.tsv").string() +
                               "\"\nvalid_fraction = 0.15\n[encoder]\nfrom = \"" +
                               (*dir_ / "runs/lm").string() +
                               "\"\n[train]\ndevice = \"cpu\"\nbatch_size = 32\nlog_every = 1\n"
                               "checkpoint_every = 4\nkeep_checkpoints = 100\n"
                               "[model]\ndrop_mult = 0.2\n[finetune]\nstage_epochs = [1, 1, 10]\n"
                               "stage_lrs = [3e-2, 2e-2, 1e-2]\n" +
                               extra);
    return file;
  }

  static std::string command(const std::string& words) { return test::genolm_command(words); }
  static int run(const std::string& words) { return test::run_genolm(dir_->path(), words); }
  static std::string err() { return test::read_text(*dir_ / "err.txt"); }
  static std::vector<nlohmann::json> metrics(const std::string& name) {
    return test::read_jsonl(*dir_ / "runs" / name / "metrics.jsonl");
  }
  static nlohmann::json test_row(const std::string& name) {
    for (const auto& row : metrics(name))
      if (row["split"] == "test") return row;
    return nullptr;
  }
  // The first column of a TSV, header skipped.
  static std::vector<std::string> first_column(const std::filesystem::path& file) {
    std::vector<std::string> ids;
    std::istringstream in(test::read_text(file));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line))
      ids.push_back(line.substr(0, line.find('\t')));
    return ids;
  }

  static test::TempDir* dir_;
};
test::TempDir* Finetune::dir_ = nullptr;

TEST_F(Finetune, LearnsTheTaskWithFrozenStagesAndDiscriminativeRates) {
  const auto folder = *dir_ / "runs/motif";
  for (const char* entry :
       {"config.toml", "tokenizer/tokenizer.json", "metrics.jsonl", "train.log", "report.html",
        "classifier.safetensors", "model.json", "run.json", "test_predictions.tsv"}) {
    EXPECT_TRUE(std::filesystem::exists(folder / entry)) << entry;
  }
  const auto test = test_row("motif");
  ASSERT_TRUE(test.is_object());
  EXPECT_GT(test["accuracy"].get<double>(), 0.85) << test.dump();
  EXPECT_GT(test["auroc"].get<double>(), 0.9);
  EXPECT_EQ(test["confusion"].size(), 2u);

  // Groups: embedding, two LSTM layers, head. Stage 1 trains the head alone, stage 2 the top two,
  // stage 3 everything, each group at the rate of the one above / 2.6.
  std::map<std::int64_t, std::size_t> trainable_by_stage;
  for (const auto& row : metrics("motif")) {
    if (row["split"] != "train") continue;
    const auto rates = row["group_lrs"].get<std::vector<double>>();
    ASSERT_EQ(rates.size(), 4u);
    std::size_t trainable = 0;
    for (std::size_t g = 0; g < rates.size(); ++g) {
      if (rates[g] == 0) continue;
      ++trainable;
      if (g + 1 < rates.size()) {
        EXPECT_NEAR(rates[g] * 2.6, rates[g + 1], 1e-12 * rates[g + 1]);
      }
    }
    EXPECT_DOUBLE_EQ(rates.back(), row["lr"].get<double>());
    trainable_by_stage[row["stage"].get<std::int64_t>()] = trainable;
  }
  EXPECT_EQ(trainable_by_stage, (std::map<std::int64_t, std::size_t>{{1, 1}, {2, 2}, {3, 4}}));

  // After stage 1 (the first epoch's checkpoint) the encoder is still exactly the pretrained one.
  std::filesystem::path first;
  for (const auto& entry : std::filesystem::directory_iterator(folder / "checkpoints"))
    if (first.empty() || entry.path() < first) first = entry.path();
  const auto run_json = nlohmann::json::parse(test::read_text(folder / "run.json"));
  auto model = train::load_model_folder(folder);
  {
    train::load_module_tensors(*model.classifier, io::SafetensorsFile::read(first, true), "model.");
  }
  const auto pretrained = models::make_encoder(
      nlohmann::json::parse(test::read_text(*dir_ / "runs/lm/model.json"))["encoder"]);
  train::load_module_file(*pretrained, *dir_ / "runs/lm/encoder.safetensors");
  const auto before = pretrained->parameters();
  const auto after = model.encoder->parameters();
  ASSERT_EQ(before.size(), after.size());
  for (std::size_t i = 0; i < before.size(); ++i)
    EXPECT_TRUE(torch::equal(before[i], after[i])) << "encoder parameter " << i << " moved";
  // ...while by the end it has moved.
  auto final_model = train::load_model_folder(folder);
  EXPECT_FALSE(torch::equal(before[1], final_model.encoder->parameters()[1]));
}

TEST_F(Finetune, PredictEvaluateAndEmbedKeepOrderAndIds) {
  const auto model = (*dir_ / "runs/motif").string();
  const auto input_ids = first_column(*dir_ / "test.tsv");

  const auto predictions = *dir_ / "predictions.tsv";
  ASSERT_EQ(run("predict --device cpu --model " + model + " --input " +
                (*dir_ / "test.tsv").string() + " --out " + predictions.string()),
            0)
      << err();
  EXPECT_EQ(first_column(predictions), input_ids);
  EXPECT_NE(test::read_text(predictions).find("id\tpredicted\tprob_no\tprob_yes\n"),
            std::string::npos);

  // evaluate on the test file reproduces the fine-tune's own test metrics.
  const auto metrics_file = *dir_ / "metrics.json";
  ASSERT_EQ(run("evaluate --device cpu --model " + model + " --input " +
                (*dir_ / "test.tsv").string() + " --out " + metrics_file.string()),
            0)
      << err();
  const auto evaluated = nlohmann::json::parse(test::read_text(metrics_file));
  EXPECT_DOUBLE_EQ(evaluated["accuracy"].get<double>(),
                   test_row("motif")["accuracy"].get<double>());
  EXPECT_EQ(evaluated["examples"], 160);

  // embed: FASTA in, [records x dim] float32 out, ids in input order, the same bytes every time.
  std::string fasta;
  std::vector<std::string> fasta_ids;
  std::istringstream table(test::read_text(*dir_ / "test.tsv"));
  std::string line;
  std::getline(table, line);
  while (std::getline(table, line)) {
    const auto id = line.substr(0, line.find('\t'));
    const auto rest = line.substr(line.find('\t') + 1);
    fasta += ">" + id + " note\n" + rest.substr(0, rest.find('\t')) + "\n";
    fasta_ids.push_back(id);
  }
  test::write_text(*dir_ / "test.fa", fasta);
  const auto embed = [&](const std::string& out, const std::string& more) {
    return run("embed --device cpu --model " + model + " --input " + (*dir_ / "test.fa").string() +
               " --out " + (*dir_ / out).string() + " " + more);
  };
  ASSERT_EQ(embed("a.npy", "--pool concat"), 0) << err();
  ASSERT_EQ(embed("b.npy", "--pool concat --batch-size 7"), 0) << err();
  ASSERT_EQ(embed("inner.npy", "--layer 1 --pool mean"), 0) << err();
  const std::string npy = test::read_text(*dir_ / "a.npy");
  EXPECT_EQ(npy.substr(0, 6), "\x93NUMPY");
  EXPECT_NE(npy.find("'shape': (160, 72)"), std::string::npos);  // concat of 3 x emb 24
  EXPECT_NE(test::read_text(*dir_ / "inner.npy").find("'shape': (160, 48)"), std::string::npos);
  EXPECT_EQ(first_column(*dir_ / "a.ids.tsv"), fasta_ids);
  // Other batch sizes pad differently; padding must not change a vector.
  const std::string other = test::read_text(*dir_ / "b.npy");
  ASSERT_EQ(other.size(), npy.size());
  const std::size_t header = npy.find('\n') + 1;
  double largest = 0;
  for (std::size_t i = header; i + 4 <= npy.size(); i += 4) {
    float x, y;
    std::memcpy(&x, npy.data() + i, 4);
    std::memcpy(&y, other.data() + i, 4);
    largest = std::max(largest, static_cast<double>(std::abs(x - y)));
  }
  EXPECT_LT(largest, 1e-4);

  // A pretraining run embeds too.
  ASSERT_EQ(run("embed --device cpu --model " + (*dir_ / "runs/lm").string() + " --input " +
                (*dir_ / "test.fa").string() + " --out " + (*dir_ / "lm.npy").string()),
            0)
      << err();
  EXPECT_NE(test::read_text(*dir_ / "lm.npy").find("'shape': (160, 24)"), std::string::npos);
  EXPECT_EQ(run("predict --device cpu --model " + (*dir_ / "runs/lm").string() + " --input " +
                (*dir_ / "test.fa").string()),
            1);
  EXPECT_NE(err().find("is a pretraining run"), std::string::npos);
}

// ULMFiT's forward + backward pair: a model fine-tuned from a backward language model reads
// backwards (recorded in model.json), refuses a recipe that says otherwise, and predict and
// evaluate average the two models' probabilities.
TEST_F(Finetune, ForwardAndBackwardModelsMakeAnEnsemble) {
  ASSERT_EQ(run("pretrain --config " + (*dir_ / "lm.toml").string() +
                " --set run.name=lm_backward --set data.backward=true"),
            0)
      << err();
  const std::string backward_lm = (*dir_ / "runs/lm_backward").string();
  const std::string from_backward = " --set encoder.from=" + backward_lm;
  EXPECT_EQ(run("finetune --config " + recipe("mismatch").string() + from_backward +
                " --set encoder.backward=false"),
            1);
  EXPECT_NE(err().find("is a backward language model"), std::string::npos) << err();
  ASSERT_EQ(run("finetune --config " + recipe("backward").string() + from_backward), 0) << err();
  const auto card = nlohmann::json::parse(test::read_text(*dir_ / "runs/backward/model.json"));
  EXPECT_EQ(card["direction"], "backward");
  EXPECT_GT(test_row("backward")["accuracy"].get<double>(), 0.7);

  const std::string input = " --device cpu --input " + (*dir_ / "test.tsv").string();
  const auto forward_model = (*dir_ / "runs/motif").string();
  const auto backward_model = (*dir_ / "runs/backward").string();
  // evaluate reads the backward model's input backwards: its metrics are the fine-tune's own.
  ASSERT_EQ(run("evaluate --model " + backward_model + input + " --out " +
                (*dir_ / "backward.json").string()),
            0)
      << err();
  EXPECT_NEAR(nlohmann::json::parse(test::read_text(*dir_ / "backward.json"))["loss"].get<double>(),
              test_row("backward")["loss"].get<double>(), 1e-5);

  const auto predict = [&](const std::string& models, const std::string& out) {
    EXPECT_EQ(run("predict " + models + input + " --out " + (*dir_ / out).string()), 0) << err();
    std::vector<std::vector<double>> rows;  // prob_no, prob_yes
    std::istringstream in(test::read_text(*dir_ / out));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string id, predicted, no, yes;
      std::getline(fields, id, '\t');
      std::getline(fields, predicted, '\t');
      std::getline(fields, no, '\t');
      std::getline(fields, yes, '\t');
      rows.push_back({std::stod(no), std::stod(yes)});
    }
    return rows;
  };
  const auto forward = predict("--model " + forward_model, "forward.tsv");
  const auto backward = predict("--model " + backward_model, "backward.tsv");
  const auto both = predict("--model " + forward_model + " --model " + backward_model, "both.tsv");
  ASSERT_EQ(both.size(), 160u);
  ASSERT_EQ(forward.size(), both.size());
  ASSERT_EQ(backward.size(), both.size());
  double largest_gap = 0;
  for (std::size_t i = 0; i < both.size(); ++i) {
    for (std::size_t c = 0; c < 2; ++c) {
      EXPECT_NEAR(both[i][c], (forward[i][c] + backward[i][c]) / 2, 1e-5) << "row " << i;
      largest_gap = std::max(largest_gap, std::abs(forward[i][c] - backward[i][c]));
    }
  }
  EXPECT_GT(largest_gap, 1e-3);  // two different models, or the test proves nothing
  ASSERT_EQ(run("evaluate --model " + forward_model + " " + backward_model + input + " --out " +
                (*dir_ / "both.json").string()),
            0)
      << err();
  const auto both_metrics = nlohmann::json::parse(test::read_text(*dir_ / "both.json"));
  EXPECT_EQ(both_metrics["models"].size(), 2u);
  EXPECT_EQ(both_metrics["examples"], 160);
}

TEST_F(Finetune, KilledRunResumesExactly) {
  const auto file = recipe("killed");
  const auto checkpoints = *dir_ / "runs/killed/checkpoints";
  EXPECT_EQ(test::interrupt_after_new_checkpoint(command("finetune --config " + file.string()),
                                                 checkpoints, SIGKILL),
            128 + SIGKILL);
  EXPECT_EQ(test::interrupt_after_new_checkpoint(
                command("finetune --resume --config " + file.string()), checkpoints, SIGTERM),
            130);
  ASSERT_EQ(run("finetune --resume --config " + file.string()), 0) << err();
  const auto losses = [](const std::string& name) {
    std::map<std::int64_t, double> out;
    for (const auto& row : metrics(name))
      if (row["split"] == "train") out[row["step"].get<std::int64_t>()] = row["loss"];
    return out;
  };
  // The same recipe as the reference run under another name: the same steps, bit for bit.
  EXPECT_EQ(losses("killed"), losses("motif"));
  EXPECT_EQ(test_row("killed")["accuracy"], test_row("motif")["accuracy"]);
  EXPECT_EQ(test_row("killed")["auroc"], test_row("motif")["auroc"]);
}

// Resuming reads the task tables again: one edited since the run started would train one run on
// two datasets, so the run pins their content and refuses.
TEST_F(Finetune, AResumeRefusesATaskTableEditedSinceTheStart) {
  const auto table = *dir_ / "pinned_train.tsv";
  std::filesystem::copy_file(*dir_ / "train.tsv", table,
                             std::filesystem::copy_options::overwrite_existing);
  const std::string words = " --config " + recipe("pinned").string() +
                            " --set task.train=" + table.string() +
                            " --set finetune.stage_epochs=[1] --set finetune.stage_lrs=[1e-2]";
  ASSERT_EQ(run("finetune" + words), 0) << err();
  const auto pinned = nlohmann::json::parse(test::read_text(*dir_ / "runs/pinned/inputs.json"));
  EXPECT_EQ(pinned["task.train"]["path"], table.string());
  EXPECT_EQ(pinned["task.train"]["sha256"].get<std::string>().size(), 64u);
  ASSERT_EQ(run("finetune --resume" + words), 0) << err();  // unchanged: nothing to do
  const std::string text = test::read_text(table);
  test::write_text(table, text.substr(0, text.rfind('\n', text.size() - 2) + 1));  // a row less
  EXPECT_EQ(run("finetune --resume" + words), 1);
  EXPECT_NE(err().find("task.train (" + table.string() + ") has changed since the run started"),
            std::string::npos)
      << err();
  EXPECT_TRUE(test_row("pinned").is_object()) << "the refused resume leaves the run as it was";
}

// A start that stops on its inputs (a column the table lacks) leaves a run folder that the
// corrected command replaces.
TEST_F(Finetune, AFailedStartBlocksNothing) {
  const std::string words = "finetune --config " + recipe("restarted").string() +
                            " --set finetune.stage_epochs=[1] --set finetune.stage_lrs=[1e-2]";
  EXPECT_EQ(run(words + " --set task.label_columns=class"), 1);
  EXPECT_NE(err().find("no column 'class'"), std::string::npos) << err();
  ASSERT_EQ(run(words), 0) << err();
  EXPECT_TRUE(test_row("restarted").is_object());
}

// A protein fed to a DNA model: as FASTA, an error at the record's line (DNA is checked against
// the DNA alphabet); in a table, where the tokenizer judges the letters, it is mostly <unk>, and
// predict still answers but says so, once.
TEST_F(Finetune, InputTheModelCannotReadIsWarnedAbout) {
  const std::string p1 = "MKVLAAGIVGLLLAQEHHRWYTPE", p2 = "MSTNPKPQRKTKRNTNRRPQDVKF";
  test::write_text(*dir_ / "proteins.fa",
                   ">d1\n" + test::random_dna(50, 5) + "\n>p1\n" + p1 + "\n");
  EXPECT_EQ(run("predict --model " + (*dir_ / "runs/motif").string() + " --input " +
                (*dir_ / "proteins.fa").string() + " --out " + (*dir_ / "p.tsv").string()),
            1);
  EXPECT_NE(err().find("proteins.fa line 4 (record 'p1'"), std::string::npos) << err();
  EXPECT_NE(err().find("expected IUPAC nucleotide codes"), std::string::npos) << err();

  test::write_text(*dir_ / "proteins.tsv", "id\tsequence\np1\t" + p1 + "\np2\t" + p2 + "\nd1\t" +
                                               test::random_dna(50, 5) + "\n");
  ASSERT_EQ(run("predict --model " + (*dir_ / "runs/motif").string() + " --input " +
                (*dir_ / "proteins.tsv").string() + " --out " + (*dir_ / "p.tsv").string()),
            0)
      << err();
  EXPECT_NE(err().find("2 records (the first: 'p1') are mostly tokens"), std::string::npos)
      << err();
  ASSERT_EQ(run("predict --model " + (*dir_ / "runs/motif").string() + " --input " +
                (*dir_ / "test.tsv").string() + " --out " + (*dir_ / "p.tsv").string()),
            0);
  EXPECT_EQ(err().find("cannot read"), std::string::npos) << err();
}

// "-" is standard input wherever a file is read: a table or gzip FASTA piped in gives what the
// file gives, and a pass that would need the input twice says so.
TEST_F(Finetune, StandardInputIsAnInput) {
  const auto model = (*dir_ / "runs/motif").string();
  const auto piped = [&](const std::string& source, const std::string& words) {
    // Braces: run_command's </dev/null then reaches the group, not genolm's end of the pipe.
    return test::run_command("{ " + source + " | " + command(words) + "; }", *dir_ / "out.txt",
                             *dir_ / "err.txt");
  };
  ASSERT_EQ(run("predict --model " + model + " --input " + (*dir_ / "test.tsv").string() +
                " --out " + (*dir_ / "from_file.tsv").string()),
            0)
      << err();
  ASSERT_EQ(
      piped("cat " + (*dir_ / "test.tsv").string(),
            "predict --model " + model + " --input - --out " + (*dir_ / "from_pipe.tsv").string()),
      0)
      << err();
  EXPECT_EQ(test::read_text(*dir_ / "from_pipe.tsv"), test::read_text(*dir_ / "from_file.tsv"));

  std::string fasta;
  std::istringstream table(test::read_text(*dir_ / "test.tsv"));
  std::string line;
  std::getline(table, line);
  while (std::getline(table, line)) {
    const auto rest = line.substr(line.find('\t') + 1);
    fasta += ">" + line.substr(0, line.find('\t')) + "\n" + rest.substr(0, rest.find('\t')) + "\n";
  }
  test::write_text(*dir_ / "stdin.fa", fasta);
  ASSERT_EQ(run("embed --model " + model + " --input " + (*dir_ / "stdin.fa").string() + " --out " +
                (*dir_ / "file.npy").string()),
            0)
      << err();
  ASSERT_EQ(piped("gzip -c " + (*dir_ / "stdin.fa").string(),
                  "embed --model " + model + " --input - --out " + (*dir_ / "pipe.npy").string()),
            0)
      << err();
  EXPECT_EQ(test::read_text(*dir_ / "pipe.npy"), test::read_text(*dir_ / "file.npy"));
  EXPECT_EQ(test::read_text(*dir_ / "pipe.ids.tsv"), test::read_text(*dir_ / "file.ids.tsv"));

  // evaluate with labels from a pipe gives the file's metrics.
  ASSERT_EQ(piped("cat " + (*dir_ / "test.tsv").string(),
                  "evaluate --model " + model + " --input - --out " +
                      (*dir_ / "piped_metrics.json").string()),
            0)
      << err();
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(test::read_text(*dir_ / "piped_metrics.json"))["accuracy"]
                       .get<double>(),
                   test_row("motif")["accuracy"].get<double>());
}

// genolm export: model.safetensors + config.json that the Python reference loader rebuilds
// (python/check_export.py parses the safetensors with plain numpy and reproduces predict and
// embed), and a folder genolm itself predicts with and starts runs from.
TEST_F(Finetune, ExportLoadsInPythonAndStartsRuns) {
  const auto exported = *dir_ / "exports/motif";
  const auto lm_export = *dir_ / "exports/lm";
  ASSERT_EQ(
      run("export --model " + (*dir_ / "runs/motif").string() + " --out " + exported.string()), 0)
      << err();
  ASSERT_EQ(run("export --model " + (*dir_ / "runs/lm").string() + " --out " + lm_export.string()),
            0)
      << err();
  const auto config = nlohmann::json::parse(test::read_text(exported / "config.json"));
  EXPECT_EQ(config["format"], "genolm-export");
  EXPECT_EQ(config["model"], "classifier");
  EXPECT_EQ(config["direction"], "forward");
  EXPECT_EQ(config["tokenizer"]["vocabulary"].size(), config["tokenizer"]["vocab_size"]);
  EXPECT_EQ(config["tokenizer"]["specials"]["sep"], 4);
  EXPECT_EQ(nlohmann::json::parse(test::read_text(lm_export / "config.json"))["model"],
            "language_model");
  // The weights are the run's, byte for byte.
  EXPECT_EQ(test::read_text(exported / "model.safetensors"),
            test::read_text(*dir_ / "runs/motif/classifier.safetensors"));
  // An existing folder is kept unless asked; a folder that is no run is named.
  EXPECT_EQ(
      run("export --model " + (*dir_ / "runs/motif").string() + " --out " + exported.string()), 1);
  EXPECT_NE(err().find("already exists"), std::string::npos) << err();
  EXPECT_EQ(run("export --model " + dir_->path().string() + " --out " +
                (*dir_ / "exports/none").string()),
            1);
  EXPECT_NE(err().find("is not a run folder"), std::string::npos) << err();
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "exports/none"));

  // genolm predicts with the export as with the run.
  const auto input = (*dir_ / "test.tsv").string();
  ASSERT_EQ(run("predict --model " + (*dir_ / "runs/motif").string() + " --input " + input +
                " --out " + (*dir_ / "run_predictions.tsv").string()),
            0)
      << err();
  ASSERT_EQ(run("predict --model " + exported.string() + " --input " + input + " --out " +
                (*dir_ / "export_predictions.tsv").string()),
            0)
      << err();
  EXPECT_EQ(test::read_text(*dir_ / "export_predictions.tsv"),
            test::read_text(*dir_ / "run_predictions.tsv"));
  for (const char* out : {"export_embeddings.npy", "export_embeddings.safetensors"}) {
    ASSERT_EQ(run("embed --model " + exported.string() + " --input " + input +
                  " --pool concat --out " + (*dir_ / out).string()),
              0)
        << err();
  }
  ASSERT_EQ(run("embed --model " + lm_export.string() + " --input " + input +
                " --pool mean --out " + (*dir_ / "lm_embeddings.npy").string()),
            0)
      << err();

  // The Python reference loader, which imports nothing of genolm.
  const std::string checker = "/usr/bin/python3 " + std::string(GENOLM_SOURCE_DIR) +
                              "/python/check_export.py --tolerance 1e-4 --input " + input;
  EXPECT_EQ(test::run_command(checker + " --export " + exported.string() + " --predictions " +
                                  (*dir_ / "run_predictions.tsv").string() + " --embeddings " +
                                  (*dir_ / "export_embeddings.npy").string() +
                                  " --pool concat --embeddings-safetensors " +
                                  (*dir_ / "export_embeddings.safetensors").string(),
                              *dir_ / "out.txt", *dir_ / "err.txt"),
            0)
      << test::read_text(*dir_ / "out.txt") << err();
  EXPECT_EQ(test::run_command(checker + " --export " + lm_export.string() + " --embeddings " +
                                  (*dir_ / "lm_embeddings.npy").string() + " --pool mean",
                              *dir_ / "out.txt", *dir_ / "err.txt"),
            0)
      << test::read_text(*dir_ / "out.txt") << err();

  // Runs start from an export: a fine-tune (encoder.from) and ULMFiT's stage 2 (init.from).
  ASSERT_EQ(run("finetune --config " + recipe("from_export").string() +
                " --set finetune.stage_epochs=[1] --set finetune.stage_lrs=[1e-2] --set "
                "encoder.from=" +
                lm_export.string()),
            0)
      << err();
  EXPECT_NE(test_row("from_export"), nullptr);
  // Off a terminal, train.log and stderr carry each step's position and fastai's epoch table.
  const std::string log = test::read_text(*dir_ / "runs/from_export/train.log");
  EXPECT_NE(log.find("% ETA "), std::string::npos) << log;
  EXPECT_NE(log.find("epoch  stage  train_loss  valid_loss  accuracy"), std::string::npos) << log;
  EXPECT_NE(log.find("] [finetune] 1      1      0."), std::string::npos) << log;
  test::write_text(
      *dir_ / "stage2.toml",
      "[run]\nname = \"stage2_from_export\"\ndir = \"" + (*dir_ / "runs").string() +
          "\"\n[data]\ntrain = [\"" + (*dir_ / "genome.fa").string() +
          "\"]\nvalid_fraction = 0.05\nvalid_block_bases = 2000\n[init]\nfrom = \"" +
          lm_export.string() +
          "\"\n[train]\ndevice = \"cpu\"\nbatch_size = 16\nbptt = 30\nmax_steps = 2\n");
  ASSERT_EQ(run("pretrain --config " + (*dir_ / "stage2.toml").string()), 0) << err();
  EXPECT_TRUE(
      std::filesystem::exists(*dir_ / "runs/stage2_from_export/language_model.safetensors"));
}

// Every report page, opened in headless Chromium (tests/reports/check_page.sh): it renders, runs
// without a script error, and its text holds the key numbers.
TEST_F(Finetune, ReportsRenderInChromiumWithTheirKeyNumbers) {
  const auto check = [&](const std::filesystem::path& page, const std::vector<std::string>& texts) {
    EXPECT_EQ(test::check_page_in_chromium(page, texts, *dir_ / "out.txt", *dir_ / "err.txt"), 0)
        << page << ": " << err();
  };
  const auto row = test_row("motif");
  ASSERT_NE(row, nullptr);
  check(*dir_ / "runs/motif/report.html",
        {"Test metrics", "accuracy " + report::format_number(row["accuracy"].get<double>()),
         "weights of epoch " + report::format_number(row["epoch"].get<double>(), 9),
         "Confusion matrix", "Precision and recall by class", "Precision-recall curves (test)",
         "Worst-predicted test examples", "Learning rate by layer group, every step", "head",
         "embedding", "stage 2: top 2 of", "stage 3: all groups"});
  check(*dir_ / "runs/lm/report.html",
        {"Markov-chain baseline", "Markov chain on", "Loss, last half of the run",
         "Learning rate by layer group"});
  test::write_text(*dir_ / "one.tsv", "id\tsequence\nref\t" + test::random_dna(40, 9) + "\n");
  ASSERT_EQ(run("mutagenesis --model " + (*dir_ / "runs/lm").string() + " --input " +
                (*dir_ / "one.tsv").string() + " --out " + (*dir_ / "page_scan").string()),
            0)
      << err();
  check(*dir_ / "page_scan/index.html", {"ref"});
}

// DeepSEA's "diff": a fine-tuned model's mutagenesis scores each substitution as the change of
// its predictions, which predict gives for the mutant and the reference.
TEST_F(Finetune, MutagenesisIsTheChangeOfPredictions) {
  const auto model = (*dir_ / "runs/motif").string();
  std::istringstream rows(test::read_text(*dir_ / "test.tsv"));
  std::string line;
  std::getline(rows, line);
  std::getline(rows, line);
  const auto rest = line.substr(line.find('\t') + 1);
  const std::string dna = rest.substr(0, rest.find('\t'));
  std::string table = "id\tsequence\nref\t" + dna + "\n";
  const std::string letters = "ACGT";
  std::vector<char> alts;
  for (const char letter : letters)
    if (letter != dna[9]) alts.push_back(letter);
  for (const char alt : alts) {
    std::string mutant = dna;
    mutant[9] = alt;
    table += std::string("m") + alt + "\t" + mutant + "\n";
  }
  test::write_text(*dir_ / "mutants.tsv", table);
  test::write_text(*dir_ / "reference.tsv", "id\tsequence\nref\t" + dna + "\n");
  ASSERT_EQ(run("predict --model " + model + " --input " + (*dir_ / "mutants.tsv").string() +
                " --out " + (*dir_ / "mutant_predictions.tsv").string()),
            0)
      << err();
  ASSERT_EQ(run("mutagenesis --model " + model + " --input " + (*dir_ / "reference.tsv").string() +
                " --out " + (*dir_ / "scan").string() + " --region 10-10"),
            0)
      << err();
  std::map<std::string, double> prob_yes;
  std::istringstream predictions(test::read_text(*dir_ / "mutant_predictions.tsv"));
  std::getline(predictions, line);
  ASSERT_EQ(line, "id\tpredicted\tprob_no\tprob_yes");
  while (std::getline(predictions, line)) {
    std::istringstream fields(line);
    std::string id, predicted;
    double no = 0, yes = 0;
    fields >> id >> predicted >> no >> yes;
    prob_yes[id] = yes;
  }
  std::istringstream scan(test::read_text(*dir_ / "scan" / "mutations.tsv"));
  std::getline(scan, line);
  ASSERT_EQ(line,
            "id\tposition\tref\talt\tdelta_no\tdelta_yes\tdelta_logodds_no\tdelta_logodds_yes");
  std::size_t seen = 0;
  while (std::getline(scan, line)) {
    std::istringstream fields(line);
    std::string id, ref, alt;
    std::size_t position = 0;
    double delta_no = 0, delta_yes = 0;
    fields >> id >> position >> ref >> alt >> delta_no >> delta_yes;
    EXPECT_EQ(position, 10u);
    EXPECT_NEAR(delta_yes, prob_yes["m" + alt] - prob_yes["ref"], 1e-5) << alt;
    EXPECT_NEAR(delta_no, -delta_yes, 1e-6);
    ++seen;
  }
  EXPECT_EQ(seen, 3u);
}

// scan slides the classifier along contigs or BED regions: each window's prediction (what predict
// gives for that window) covers its central step, one bedGraph per class; a contig shorter than
// the window is left out with a warning.
TEST_F(Finetune, ScanWritesOneTrackPerClassOfWhatPredictGives) {
  const auto model = (*dir_ / "runs/motif").string();
  std::string contig = test::random_dna(300, 77);
  contig.replace(120, kMotif.size(), kMotif);
  test::write_text(
      *dir_ / "scan_genome.fa",
      test::fasta_record("c1", contig) + test::fasta_record("c2", test::random_dna(40, 78)));
  ASSERT_EQ(run("scan --model " + model + " --reference " + (*dir_ / "scan_genome.fa").string() +
                " --window 50 --step 10 --out " + (*dir_ / "motif.bedGraph").string()),
            0)
      << err();
  EXPECT_NE(err().find("1 region shorter than the window: not scanned"), std::string::npos)
      << err();
  std::string windows = "id\tsequence\n";
  for (int start = 0; start <= 250; start += 10)
    windows += "w" + std::to_string(start) + "\t" + contig.substr(start, 50) + "\n";
  test::write_text(*dir_ / "windows.tsv", windows);
  ASSERT_EQ(run("predict --model " + model + " --input " + (*dir_ / "windows.tsv").string() +
                " --out " + (*dir_ / "window_predictions.tsv").string()),
            0)
      << err();
  std::vector<double> expected;
  std::istringstream predictions(test::read_text(*dir_ / "window_predictions.tsv"));
  std::string line;
  std::getline(predictions, line);
  while (std::getline(predictions, line))
    expected.push_back(std::stod(line.substr(line.rfind('\t') + 1)));  // prob_yes
  std::istringstream track(test::read_text(*dir_ / "motif.prob_yes.bedGraph"));
  std::getline(track, line);
  EXPECT_EQ(line.rfind("track type=bedGraph name=\"prob_yes\"", 0), 0u) << line;
  std::size_t row = 0;
  while (std::getline(track, line)) {
    std::istringstream fields(line);
    std::string chrom;
    long start = 0, end = 0;
    double value = 0;
    fields >> chrom >> start >> end >> value;
    EXPECT_EQ(chrom, "c1");
    EXPECT_EQ(start, static_cast<long>(row) * 10 + 20);
    EXPECT_EQ(end, start + 10);
    ASSERT_LT(row, expected.size());
    EXPECT_NEAR(value, expected[row], 1e-5) << row;
    ++row;
  }
  EXPECT_EQ(row, 26u);
  EXPECT_TRUE(std::filesystem::exists(*dir_ / "motif.prob_no.bedGraph"));

  test::write_text(*dir_ / "regions.bed", "track name=x\nc1\t100\t200\tpromoter\n");
  ASSERT_EQ(run("scan --model " + model + " --reference " + (*dir_ / "scan_genome.fa").string() +
                " --regions " + (*dir_ / "regions.bed").string() + " --window 50 --step 10 --out " +
                (*dir_ / "region.bedGraph").string()),
            0)
      << err();
  const auto region = test::read_text(*dir_ / "region.prob_yes.bedGraph");
  EXPECT_EQ(std::count(region.begin(), region.end(), '\n'), 7);  // the track line and 6 windows
  EXPECT_NE(region.find("c1\t120\t130\t"), std::string::npos);

  test::write_text(*dir_ / "bad.bed", "c1\t100\t200\nc1\t300\t90\n");
  EXPECT_NE(run("scan --model " + model + " --reference " + (*dir_ / "scan_genome.fa").string() +
                " --regions " + (*dir_ / "bad.bed").string() + " --window 50 --step 10"),
            0);
  EXPECT_NE(err().find("bad.bed line 2: end 90 is not after start 300"), std::string::npos)
      << err();
  test::write_text(*dir_ / "outside.bed", "c2\t0\t400\n");
  EXPECT_NE(run("scan --model " + model + " --reference " + (*dir_ / "scan_genome.fa").string() +
                " --regions " + (*dir_ / "outside.bed").string() + " --window 50 --step 10"),
            0);
  EXPECT_NE(err().find("outside.bed line 1: c2:0-400 is not within the reference"),
            std::string::npos)
      << err();
  EXPECT_NE(run("scan --model " + (*dir_ / "runs/lm").string() + " --reference " +
                (*dir_ / "scan_genome.fa").string() + " --window 50 --step 10"),
            0);
  EXPECT_NE(err().find("is a pretraining run: scan needs a fine-tuned run"), std::string::npos)
      << err();
}

// A folder that keeps only the whole language model (how genolm ships a pretrained model, at half
// the size) is an encoder.from like any other: the encoder's weights come out of
// language_model.safetensors, and the fine-tune is the same, loss for loss.
TEST_F(Finetune, StartsFromAFolderThatKeepsOnlyTheLanguageModel) {
  const auto lm = *dir_ / "runs/lm";
  const auto lean = *dir_ / "lm_only";
  std::filesystem::create_directories(lean);
  std::filesystem::copy(lm / "model.json", lean / "model.json");
  std::filesystem::copy(lm / "language_model.safetensors", lean / "language_model.safetensors");
  std::filesystem::copy(lm / "tokenizer", lean / "tokenizer",
                        std::filesystem::copy_options::recursive);
  const std::string one_epoch = " --set finetune.stage_epochs=[1] --set finetune.stage_lrs=[1e-2]";
  ASSERT_EQ(run("finetune --config " + recipe("from_encoder_file").string() + one_epoch), 0)
      << err();
  ASSERT_EQ(run("finetune --config " + recipe("from_lm_file").string() + one_epoch +
                " --set encoder.from=" + lean.string()),
            0)
      << err();
  std::vector<double> expected, actual;
  for (const auto& row : metrics("from_encoder_file"))
    if (row.contains("loss")) expected.push_back(row["loss"].get<double>());
  for (const auto& row : metrics("from_lm_file"))
    if (row.contains("loss")) actual.push_back(row["loss"].get<double>());
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(actual, expected);
}

// A run's config.toml is a recipe for its command: with encoder.from, the [model] keys it lists
// at their defaults are no error.
TEST_F(Finetune, ARunsConfigIsARecipeForAnotherRun) {
  ASSERT_EQ(run("finetune --config " + recipe("original").string() +
                " --set finetune.stage_epochs=[1] --set finetune.stage_lrs=[1e-2]"),
            0)
      << err();
  const auto config = *dir_ / "runs" / "original" / "config.toml";
  ASSERT_EQ(run("finetune --config " + config.string() + " --set run.name=copy"), 0) << err();
  EXPECT_EQ(test_row("copy")["loss"], test_row("original")["loss"]);  // the same run again
}

// config.toml describes the run: the encoder's sizes and tokenizer came from encoder.from, so it
// names that run for them instead of listing the defaults (emb_size 400) that were never used.
TEST_F(Finetune, ARunsConfigNamesTheEncoderRunForWhatCameFromIt) {
  const auto config = test::read_text(*dir_ / "runs" / "motif" / "config.toml");
  const auto section = [&](const std::string& name) {
    const auto start = config.find("[" + name + "]\n");
    return start == std::string::npos ? std::string()
                                      : config.substr(start, config.find("\n[", start) - start);
  };
  const auto model = section("model");
  const auto from = "encoder.from (" + (*dir_ / "runs/lm").string() + ")";
  EXPECT_NE(model.find("# emb_size: from the model.json of " + from), std::string::npos) << config;
  EXPECT_NE(section("tokenizer").find("# k: from the tokenizer of " + from), std::string::npos)
      << config;
  EXPECT_EQ(model.find("\nemb_size ="), std::string::npos) << config;
  EXPECT_EQ(model.find("\nhidden_size ="), std::string::npos) << config;
  EXPECT_NE(model.find("\ndrop_mult = 0.2"), std::string::npos) << config;  // read beside it
  // --dump-config shows the recipe the same way.
  ASSERT_EQ(run("finetune --dump-config --config " + recipe("dumped").string()), 0) << err();
  EXPECT_NE(test::read_text(*dir_ / "out.txt").find("# emb_size: from the model.json of " + from),
            std::string::npos);
}

TEST_F(Finetune, BadInputsAreClearErrors) {
  const auto expect_error = [&](const std::string& words, const std::string& expected) {
    EXPECT_EQ(run(words), 1) << words;
    EXPECT_NE(err().find(expected), std::string::npos) << err();
  };
  expect_error(
      "finetune --config " + recipe("no_column").string() + " --set task.label_columns=class",
      "no column 'class'");
  test::write_text(*dir_ / "unknown.tsv", "id\tsequence\tlabel\nq1\tACGTACGTAC\tmaybe\n");
  expect_error("finetune --config " + recipe("unknown_class").string() +
                   " --set task.test=" + (*dir_ / "unknown.tsv").string(),
               "line 2 (record 'q1'): unknown class 'maybe' (the model knows: no, yes)");
  test::write_text(*dir_ / "values.tsv",
                   "id\tsequence\ty\na\tACGTACGTAC\t1.5\nb\tACGTTTGTAC\thigh\n");
  expect_error("finetune --config " + recipe("not_a_number").string() +
                   " --set task.kind=regression --set task.label_columns=y --set task.train=" +
                   (*dir_ / "values.tsv").string(),
               "values.tsv line 3 (record 'b'): regression target 'y' is 'high', not a number");
  // Two examples per class: a 10% valid share rounds to none.
  test::write_text(*dir_ / "tiny.tsv",
                   "id\tsequence\tlabel\na\tACGTACGT\tyes\nb\tACGTTCGT\tyes\n"
                   "c\tACGAACGT\tno\nd\tAGGTACGT\tno\n");
  expect_error("finetune --config " + recipe("empty_split").string() +
                   " --set task.train=" + (*dir_ / "tiny.tsv").string(),
               "task.valid_fraction 0.15 of 4 examples in");
  expect_error(
      "finetune --config " + recipe("other_tokenizer").string() + " --set tokenizer.kind=protein",
      "was pretrained with the tokenizer kmer");
  expect_error(
      "finetune --config " + recipe("bad_stages").string() + " --set finetune.stage_lrs=[1e-3]",
      "must name the same number of stages");
}

// With encoder.from the encoder's architecture and sizes come from the pretraining run: a [model]
// key that would choose them is not read, and says so; model.drop_mult still applies.
// A model.json whose head and classes disagree once made predict write misaligned rows, exit 0.
TEST_F(Finetune, AModelCardWhoseHeadAndClassesDisagreeIsRefused) {
  const auto copy = *dir_ / "runs" / "motif_damaged";
  std::filesystem::copy(*dir_ / "runs" / "motif", copy, std::filesystem::copy_options::recursive);
  auto card = nlohmann::json::parse(test::read_text(copy / "model.json"));
  card["task"]["classes"] = {"no", "yes", "maybe"};
  test::write_text(copy / "model.json", card.dump(2));
  EXPECT_NE(run("predict --device cpu --model " + copy.string() + " --input " +
                (*dir_ / "test.tsv").string() + " --out " + (*dir_ / "damaged.tsv").string()),
            0);
  EXPECT_NE(
      err().find((copy / "model.json").string() +
                 ": the head has 2 outputs, but the task's classes, labels or targets make 3"),
      std::string::npos)
      << err();
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "damaged.tsv"));
}

TEST_F(Finetune, AModelSizeBesideAPretrainedEncoderIsAClearError) {
  EXPECT_EQ(run("finetune --config " + recipe("sized").string() + " --set model.emb_size=64"), 1);
  EXPECT_NE(err().find("recipe key 'model.emb_size' is not read by 'genolm finetune' when "
                       "encoder.from names a pretraining run"),
            std::string::npos)
      << err();
}

}  // namespace
}  // namespace genolm
