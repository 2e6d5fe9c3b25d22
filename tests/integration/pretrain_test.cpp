// genolm pretrain end to end on a FASTA the test writes: the loss beats the stride prior, the run
// folder is complete, and a run killed with SIGKILL or stopped with SIGTERM resumes with per-step
// losses identical to an uninterrupted run's.
#include <gtest/gtest.h>
#include <signal.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include <torch/cuda.h>
#include <torch/serialize.h>

#include "genolm/remove_tree.h"
#include "io/safetensors.h"
#include "support/genolm_process.h"
#include "support/test_files.h"

namespace genolm {
namespace {

class Pretrain : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_text(dir_ / "genome.fa",
                     test::fasta_record("repeats", test::tandem_repeats(120000, 3)));
  }

  // A recipe for a small AWD-LSTM writing under dir_/runs; `train_extra` and `model_extra` add
  // keys to [train] and [model].
  std::filesystem::path recipe(const std::string& name, const std::string& train_extra = "",
                               const std::string& model_extra = "") {
    const auto file = dir_ / (name + ".toml");
    test::write_text(file, "[run]\nname = \"" + name + "\"\ndir = \"" + (dir_ / "runs").string() +
                               "\"\nseed = 7\n[data]\ntrain = [\"" + (dir_ / "genome.fa").string() +
                               "\"]\nvalid_fraction = 0.05\nvalid_block_bases = 2000\n"
                               "[tokenizer]\nkind = \"kmer\"\nk = 3\nstride = 1\n"
                               "[model]\nemb_size = 24\nhidden_size = 48\nlayers = 2\n" +
                               model_extra +
                               "[train]\ndevice = \"cpu\"\nbatch_size = 16\nbptt = 30\nlr = 1e-2\n"
                               "max_steps = 60\n"
                               "log_every = 1\neval_every = 20\ncheckpoint_every = 5\n" +
                               train_extra);
    return file;
  }

  std::string command(const std::filesystem::path& recipe_file, const std::string& more) const {
    return std::string(GENOLM_BINARY) + " --threads 2 --log-level warn pretrain --config " +
           recipe_file.string() + " " + more;
  }

  int run(const std::filesystem::path& recipe_file, const std::string& more = "") {
    return test::run_command(command(recipe_file, more), dir_ / "out.txt", dir_ / "err.txt");
  }

  int interrupt_after_first_checkpoint(const std::filesystem::path& recipe_file,
                                       const std::string& name, int signal,
                                       const std::string& more = "") {
    return test::interrupt_after_new_checkpoint(command(recipe_file, more),
                                                dir_ / "runs" / name / "checkpoints", signal);
  }

  std::vector<nlohmann::json> metrics(const std::string& name) const {
    return test::read_jsonl(dir_ / "runs" / name / "metrics.jsonl");
  }

  std::map<std::int64_t, double> train_losses(const std::string& name) const {
    std::map<std::int64_t, double> losses;
    for (const auto& row : metrics(name)) {
      if (row["split"] == "train") losses[row["step"].get<std::int64_t>()] = row["loss"];
    }
    return losses;
  }

  test::TempDir dir_;
};

TEST_F(Pretrain, LossFallsBelowTheStridePriorAndTheRunFolderIsComplete) {
  const auto file = recipe("beats_prior", "", "drop_mult = 0.2\n");
  ASSERT_EQ(run(file, "--set train.max_steps=250 --set train.eval_every=50"), 0)
      << test::read_text(dir_ / "err.txt");
  const auto folder = dir_ / "runs" / "beats_prior";
  for (const char* entry : {"config.toml", "tokenizer/tokenizer.json", "metrics.jsonl", "train.log",
                            "report.html", "encoder.safetensors", "model.json", "run.json"}) {
    EXPECT_TRUE(std::filesystem::exists(folder / entry)) << entry;
  }
  EXPECT_FALSE(std::filesystem::is_empty(folder / "checkpoints"));
  double last_valid = NAN;
  for (const auto& row : metrics("beats_prior")) {
    ASSERT_TRUE(row.contains("step") && row.contains("split") && row.contains("loss"));
    if (row["split"] == "train") {
      for (const char* key : {"lr", "tokens_per_s", "grad_norm", "wall_s"}) {
        EXPECT_TRUE(row.contains(key)) << key;
      }
    } else {
      EXPECT_TRUE(row.contains("perplexity") && row.contains("accuracy"));
      last_valid = row["loss"];
    }
  }
  const double prior = std::log(4.0);  // 3-mers, stride 1
  EXPECT_LT(last_valid, prior) << "valid loss did not beat the stride prior";
  const auto run_json = nlohmann::json::parse(test::read_text(folder / "run.json"));
  EXPECT_EQ(run_json["status"], "finished");
  EXPECT_NEAR(run_json["stride_prior"].get<double>(), prior, 1e-9);
  // The references a model must beat: Markov chains of order 3 (one 3-mer) and 8 over bases.
  const auto& baselines = run_json["baselines"];
  EXPECT_EQ(baselines["direction"], "forward");
  EXPECT_NEAR(baselines["uniform"].get<double>(), std::log(71.0), 1e-9);
  ASSERT_EQ(baselines["markov"].size(), 2u) << baselines;
  EXPECT_EQ(baselines["markov"][0]["order"], 3);
  EXPECT_EQ(baselines["markov"][1]["order"], 8);
  for (const auto& chain : baselines["markov"]) {
    EXPECT_EQ(chain["order_unit"], "bases");
    EXPECT_LT(chain["valid_loss"].get<double>(), prior) << "tandem repeats are predictable";
  }
  EXPECT_NE(test::read_text(folder / "report.html").find("<svg"), std::string::npos);
  // The run folder is never overwritten by accident.
  EXPECT_EQ(run(file), 1);
  EXPECT_NE(test::read_text(dir_ / "err.txt").find("already exists"), std::string::npos);
}

// A CUDA build on a machine with a GPU trains there (cuDNN's LSTM) and learns; elsewhere asking
// for a GPU is a clear error and `auto` means the CPU. (The other tests pin the CPU: exact resume
// is promised there.)
TEST_F(Pretrain, TrainsOnTheGpuWhereThereIsOne) {
  const auto file = recipe("gpu", "", "drop_mult = 0.2\n");
  const auto folder = dir_ / "runs" / "gpu";
  if (torch::cuda::is_available()) {
    ASSERT_EQ(run(file, "--set train.device=cuda --set train.max_steps=120"), 0)
        << test::read_text(dir_ / "err.txt");
    const auto run_json = nlohmann::json::parse(test::read_text(folder / "run.json"));
    EXPECT_EQ(run_json["device"].get<std::string>().rfind("cuda", 0), 0u) << run_json["device"];
    const auto losses = train_losses("gpu");
    ASSERT_GE(losses.size(), 100u);
    EXPECT_LT(losses.rbegin()->second, losses.begin()->second - 0.2);
  } else {
    EXPECT_EQ(run(file, "--set train.device=cuda"), 1);
    EXPECT_NE(test::read_text(dir_ / "err.txt").find("train.device = cuda, but no GPU is usable"),
              std::string::npos)
        << test::read_text(dir_ / "err.txt");
    remove_tree(folder);
    ASSERT_EQ(run(file, "--set train.device=auto --set train.max_steps=5"), 0)
        << test::read_text(dir_ / "err.txt");
    const auto run_json = nlohmann::json::parse(test::read_text(folder / "run.json"));
    EXPECT_EQ(run_json["device"], "cpu");
  }
}

TEST_F(Pretrain, KilledOrStoppedRunsResumeExactly) {
  ASSERT_EQ(run(recipe("reference")), 0) << test::read_text(dir_ / "err.txt");
  const auto reference = train_losses("reference");
  ASSERT_EQ(reference.size(), 60u);

  // The same recipe under another name: SIGKILL, then SIGTERM during the resumed run, then resume.
  const auto resumed = recipe("resumed");
  EXPECT_EQ(interrupt_after_first_checkpoint(resumed, "resumed", SIGKILL), 128 + SIGKILL);
  EXPECT_EQ(interrupt_after_first_checkpoint(resumed, "resumed", SIGTERM, "--resume"), 130);
  const auto status = nlohmann::json::parse(test::read_text(dir_ / "runs/resumed/run.json"));
  EXPECT_EQ(status["status"], "interrupted");
  ASSERT_EQ(run(resumed, "--resume"), 0) << test::read_text(dir_ / "err.txt");
  EXPECT_EQ(train_losses("resumed"), reference);  // every step, bit for bit
}

TEST_F(Pretrain, CorruptCheckpointIsAClearError) {
  const auto file = recipe("corrupt", "");
  ASSERT_EQ(run(file), 0);
  const auto checkpoints = dir_ / "runs" / "corrupt" / "checkpoints";
  std::filesystem::path latest;
  for (const auto& entry : std::filesystem::directory_iterator(checkpoints)) {
    if (entry.path() > latest) latest = entry.path();
  }
  const std::string bytes = test::read_text(latest);
  test::write_text(latest, bytes.substr(0, bytes.size() / 3));
  EXPECT_EQ(run(file, "--set train.max_steps=80 --resume"), 1);
  const std::string err = test::read_text(dir_ / "err.txt");
  EXPECT_NE(err.find("step-00000060.safetensors is not a valid safetensors file: "),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("(truncated or damaged); delete it to resume from an earlier one"),
            std::string::npos)
      << err;
  EXPECT_EQ(run(recipe("other"), "--resume"), 1);  // nothing to resume

  // Without any checkpoint, --resume once started over silently and overwrote the encoder's
  // weights.
  const auto encoder = dir_ / "runs" / "corrupt" / "encoder.safetensors";
  const std::string weights = test::read_text(encoder);
  remove_tree(checkpoints);
  EXPECT_EQ(run(file, "--set train.max_steps=80 --resume"), 1);
  const std::string no_checkpoint = test::read_text(dir_ / "err.txt");
  EXPECT_NE(no_checkpoint.find("holds no checkpoint to continue from, and starting over would "
                               "overwrite the weights it saved"),
            std::string::npos)
      << no_checkpoint;
  EXPECT_EQ(test::read_text(encoder), weights);
}

// A start that stops before its first step (here on a missing FASTA) leaves a run folder that the
// corrected command replaces: nothing needs deleting by hand.
TEST_F(Pretrain, AFailedStartBlocksNothing) {
  const auto file = recipe("restarted");
  EXPECT_EQ(run(file, "--set train.max_steps=5 --set data.train=" + (dir_ / "missing.fa").string()),
            1);
  EXPECT_NE(test::read_text(dir_ / "err.txt").find("missing.fa: no such file"), std::string::npos)
      << test::read_text(dir_ / "err.txt");
  ASSERT_EQ(run(file, "--set train.max_steps=5"), 0) << test::read_text(dir_ / "err.txt");
  const auto run_json =
      nlohmann::json::parse(test::read_text(dir_ / "runs" / "restarted" / "run.json"));
  EXPECT_EQ(run_json["status"], "finished");
  EXPECT_EQ(train_losses("restarted").size(), 5u);
}

// A finished pretraining folder holds the whole language model, and its model card says so: the
// folder can score sequences without its checkpoints.
TEST_F(Pretrain, AFinishedRunHoldsTheWholeLanguageModelAndItsCardSaysSo) {
  ASSERT_EQ(run(recipe("whole", "", "drop_mult = 0.2\n"), "--set train.max_steps=5"), 0)
      << test::read_text(dir_ / "err.txt");
  const auto folder = dir_ / "runs" / "whole";
  ASSERT_TRUE(std::filesystem::exists(folder / "language_model.safetensors"));
  ASSERT_TRUE(std::filesystem::exists(folder / "encoder.safetensors"));
  const auto card = nlohmann::json::parse(test::read_text(folder / "model.json"));
  EXPECT_EQ(card["format"], "genolm-model");
  EXPECT_EQ(card["version"], 2);
  EXPECT_EQ(card["task"], "language_model");
  EXPECT_EQ(card["direction"], "forward");
  EXPECT_EQ(card["weights"]["language_model"], "language_model.safetensors");
  EXPECT_EQ(card["tokenizer"]["vocabulary"].size(), 71u);  // 64 3-mers after 7 specials
  EXPECT_EQ(card["tokenizer"]["vocabulary"][7], "AAA");
  EXPECT_NE(card["produced_by"].get<std::string>().find("genolm pretrain"), std::string::npos);

  // The exported language model holds the encoder's weights and the decoder's bias.
  const auto weights = io::SafetensorsFile::read(folder / "language_model.safetensors", true);
  const auto* bias = weights.find("decoder_bias");
  ASSERT_NE(bias, nullptr);
  EXPECT_EQ(bias->shape, std::vector<std::int64_t>{71});
  EXPECT_NE(weights.find("encoder.embedding"), nullptr);
}

TEST_F(Pretrain, Bf16TracksFp32) {
  ASSERT_EQ(run(recipe("fp32", "precision = \"fp32\"\n")), 0) << test::read_text(dir_ / "err.txt");
  ASSERT_EQ(run(recipe("bf16", "precision = \"bf16\"\n")), 0) << test::read_text(dir_ / "err.txt");
  const auto fp32 = train_losses("fp32");
  const auto bf16 = train_losses("bf16");
  ASSERT_EQ(fp32.size(), bf16.size());
  double difference = 0;
  for (const auto& [step, loss] : fp32)
    difference += std::abs(loss - bf16.at(step));
  EXPECT_LT(difference / fp32.size(), 0.05);
  EXPECT_LT(bf16.rbegin()->second, fp32.begin()->second - 0.3);  // it learned too
}

TEST_F(Pretrain, TransformerLearns) {
  const auto file = recipe("transformer", "precision = \"bf16\"\n",
                           "arch = \"transformer\"\nheads = 4\ncontext = 32\n");
  ASSERT_EQ(run(file), 0) << test::read_text(dir_ / "err.txt");
  const auto losses = train_losses("transformer");
  EXPECT_LT(losses.rbegin()->second, losses.begin()->second - 0.3);
}

}  // namespace
}  // namespace genolm
