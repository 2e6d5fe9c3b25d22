// ULMFiT's stage 2 end to end: `genolm pretrain` with init.from continues another run's language
// model (its weights, architecture and tokenizer) on new data, which may be a labelled table.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>

#include "support/genolm_process.h"
#include "support/test_files.h"

namespace genolm {
namespace {

// [train] keys every run here shares: the evaluation reads the same valid rows in each.
constexpr const char* kTrain =
    "[train]\ndevice = \"cpu\"\nbatch_size = 16\nbptt = 30\neval_every = 1\n"
    "checkpoint_every = 100\nlog_every = 1\n";
constexpr const char* kSplit = "valid_fraction = 0.05\nvalid_block_bases = 2000\n";

class StageTwo : public ::testing::Test {
 protected:
  // One parent language model for every test: 150 steps on tandem repeats take it from ln 71 (4.26)
  // to about 1.05.
  static void SetUpTestSuite() {
    dir_ = std::make_unique<test::TempDir>();
    genome_ = test::tandem_repeats(120000, 3);
    test::write_text(*dir_ / "genome.fa", test::fasta_record("repeats", genome_));
    const auto parent = write_recipe(
        "parent", "[data]\ntrain = [\"" + (*dir_ / "genome.fa").string() + "\"]\n" + kSplit +
                      "[tokenizer]\nkind = \"kmer\"\nk = 3\nstride = 1\n"
                      "[model]\nemb_size = 24\nhidden_size = 48\nlayers = 2\ndrop_mult = 0.2\n" +
                      kTrain + "lr = 1e-2\nmax_steps = 150\n");
    ASSERT_EQ(run(parent, "--set train.eval_every=50"), 0) << test::read_text(*dir_ / "err.txt");
  }
  static void TearDownTestSuite() { dir_.reset(); }

  static std::filesystem::path write_recipe(const std::string& name, const std::string& body) {
    const auto file = *dir_ / (name + ".toml");
    test::write_text(file, "[run]\nname = \"" + name + "\"\ndir = \"" + (*dir_ / "runs").string() +
                               "\"\nseed = 7\n" + body);
    return file;
  }

  // A stage-2 recipe: no [model] and no [tokenizer], they come with the parent.
  static std::filesystem::path stage_two(const std::string& name, const std::string& data,
                                         const std::string& more = "") {
    return write_recipe(name, "[init]\nfrom = \"" + parent_dir().string() + "\"\n[data]\n" + data +
                                  kSplit + kTrain + more);
  }

  static int run(const std::filesystem::path& recipe, const std::string& more = "") {
    return test::run_command(std::string(GENOLM_BINARY) +
                                 " --threads 2 --log-level warn pretrain --config " +
                                 recipe.string() + " " + more,
                             *dir_ / "out.txt", *dir_ / "err.txt");
  }

  static std::string err() { return test::read_text(*dir_ / "err.txt"); }
  static std::filesystem::path parent_dir() { return *dir_ / "runs" / "parent"; }

  static std::vector<double> valid_losses(const std::string& name) {
    std::vector<double> losses;
    for (const auto& row : test::read_jsonl(*dir_ / "runs" / name / "metrics.jsonl"))
      if (row["split"] == "valid") losses.push_back(row["loss"].get<double>());
    return losses;
  }

  static nlohmann::json json_file(const std::filesystem::path& file) {
    return nlohmann::json::parse(test::read_text(file));
  }

  static std::unique_ptr<test::TempDir> dir_;
  static std::string genome_;
};

std::unique_ptr<test::TempDir> StageTwo::dir_;
std::string StageTwo::genome_;

// With a learning rate of 0 a step changes no weight, so the first evaluation is the parent's
// model on the parent's own valid split: its last valid loss, to rounding. A model started from
// random weights would score about ln 71.
TEST_F(StageTwo, StartsFromTheParentsWeights) {
  const auto recipe =
      stage_two("same_data", "train = [\"" + (*dir_ / "genome.fa").string() + "\"]\n",
                "lr = 0.0\nmax_steps = 1\n");
  ASSERT_EQ(run(recipe), 0) << err();
  const double parent = valid_losses("parent").back();
  const auto losses = valid_losses("same_data");
  ASSERT_EQ(losses.size(), 1u);
  EXPECT_NEAR(losses[0], parent, 1e-5);
  EXPECT_LT(losses[0], std::log(71.0) - 1.0) << "the parent learnt the repeats";

  const auto folder = *dir_ / "runs" / "same_data";
  EXPECT_EQ(json_file(folder / "run.json")["init_from"], parent_dir().string());
  // It is the parent's model: the same architecture and sizes on the card, the same tokenizer.
  EXPECT_EQ(json_file(folder / "model.json")["encoder"],
            json_file(parent_dir() / "model.json")["encoder"]);
  EXPECT_EQ(json_file(folder / "tokenizer" / "tokenizer.json"),
            json_file(parent_dir() / "tokenizer" / "tokenizer.json"));
}

// The task's own sequences from a labelled table (labels ignored): the first evaluation is near
// the parent's loss, far below a uniform guess, and training goes on from there.
TEST_F(StageTwo, ReadsATableAndContinuesFromTheParentsLoss) {
  std::string table = "id\tsequence\tlabel\n";
  for (std::size_t start = 0; start + 300 <= genome_.size(); start += 300)
    table += "row" + std::to_string(start) + "\t" + genome_.substr(start, 300) + "\tyes\n";
  test::write_text(*dir_ / "rows.tsv", table);
  const auto recipe = stage_two("table", "train = [\"" + (*dir_ / "rows.tsv").string() + "\"]\n",
                                "lr = 1e-3\nmax_steps = 3\n");
  ASSERT_EQ(run(recipe), 0) << err();
  const auto losses = valid_losses("table");
  ASSERT_EQ(losses.size(), 3u);
  EXPECT_NEAR(losses[0], valid_losses("parent").back(), 0.3);
  EXPECT_LT(losses[0], std::log(71.0) - 1.0);
  const auto corpus = json_file(*dir_ / "runs" / "table" / "corpus" / "corpus.json");
  EXPECT_EQ(corpus["inputs"][0]["format"], "table");
  EXPECT_EQ(corpus["inputs"][0]["records"], 400);
}

// The parent's tokenizer and architecture come along: a recipe that asks for others is refused
// before any folder is written, with both named.
TEST_F(StageTwo, RefusesAnotherTokenizerOrArchitecture) {
  const std::string data = "train = [\"" + (*dir_ / "genome.fa").string() + "\"]\n";
  auto recipe = stage_two("other_tokenizer", data, "[tokenizer]\nkind = \"kmer\"\nk = 4\n");
  EXPECT_EQ(run(recipe), 1);
  EXPECT_NE(err().find("init.from " + parent_dir().string() +
                       " was pretrained with the tokenizer kmer k=3 stride=1 (71 tokens), but the "
                       "recipe asks for kmer k=4 stride=1 (263 tokens)"),
            std::string::npos)
      << err();
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "runs" / "other_tokenizer"));

  recipe = stage_two("other_size", data, "[model]\nemb_size = 32\n");
  EXPECT_EQ(run(recipe), 1);
  EXPECT_NE(err().find("recipe key 'model.emb_size' is not read by 'genolm pretrain' when "
                       "init.from names a pretraining run"),
            std::string::npos)
      << err();

  recipe = stage_two("backward", data + "backward = true\n");
  EXPECT_EQ(run(recipe), 1);
  EXPECT_NE(err().find("reads forward, but data.backward = true"), std::string::npos) << err();

  recipe = stage_two("no_parent", data);
  EXPECT_EQ(run(recipe, "--set init.from=" + (*dir_ / "nowhere").string()), 1);
  EXPECT_NE(err().find("is not a pretraining run folder (expected model.json and "
                       "language_model.safetensors there)"),
            std::string::npos)
      << err();
}

}  // namespace
}  // namespace genolm
