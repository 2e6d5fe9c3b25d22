// genolm lr-find end to end on a pretraining recipe and a fine-tuning recipe the test writes: each
// writes its page, table and JSON beside the run folders (never into one), with rates that grow
// exponentially and a finite suggestion inside the swept range.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "support/genolm_cli.h"
#include "support/genolm_process.h"
#include "support/report_page.h"
#include "support/test_files.h"

namespace genolm {
namespace {

// 50-nt sequences; the "yes" half holds a motif somewhere.
std::string motif_table(std::size_t rows, unsigned seed) {
  const std::string motif = "GATTACAGATTACA";
  std::mt19937 rng(seed);
  std::string table = "id\tsequence\tlabel\n";
  for (std::size_t i = 0; i < rows; ++i) {
    std::string dna = test::random_dna(50, seed * 1000 + static_cast<unsigned>(i));
    const bool yes = i % 2 == 0;
    if (yes) dna.replace(rng() % (dna.size() - motif.size()), motif.size(), motif);
    table.append("r").append(std::to_string(i)).append("\t").append(dna);
    table.append("\t").append(yes ? "yes" : "no").append("\n");
  }
  return table;
}

class LrFind : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    test::write_text(*dir_ / "genome.fa",
                     test::fasta_record("repeats", test::tandem_repeats(40000, 3)));
    test::write_text(*dir_ / "train.tsv", motif_table(200, 1));
    test::write_text(*dir_ / "lm.toml",
                     "[run]\nname = \"lm\"\ndir = \"" + (*dir_ / "runs").string() +
                         "\"\n[data]\ntrain = [\"" + (*dir_ / "genome.fa").string() +
                         "\"]\nvalid_fraction = 0.05\nvalid_block_bases = 2000\n"
                         "[model]\nemb_size = 24\nhidden_size = 48\nlayers = 2\n"
                         "[train]\ndevice = \"cpu\"\nbatch_size = 16\nbptt = 30\nmax_steps = 10\n");
    test::write_text(
        *dir_ / "motif.toml",
        "[run]\nname = \"motif\"\ndir = \"" + (*dir_ / "runs").string() + "\"\n[task]\ntrain = \"" +
            (*dir_ / "train.tsv").string() + "\"\nvalid_fraction = 0.15\n[encoder]\nfrom = \"" +
            (*dir_ / "runs/lm").string() + "\"\n[train]\ndevice = \"cpu\"\nbatch_size = 16\n");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static int run(const std::string& words) { return test::run_genolm(dir_->path(), words); }
  static std::string out() { return test::read_text(*dir_ / "out.txt"); }
  static std::string err() { return test::read_text(*dir_ / "err.txt"); }

  // The folder's three files are there, its curve's rates grow by one factor from 1e-7 up to at
  // most 10, and its suggestion is finite and inside the sweep. Returns lr_find.json.
  static nlohmann::json check_output(const std::filesystem::path& folder, std::int64_t steps) {
    const auto html = test::read_text(folder / "lr_find.html");
    EXPECT_NE(html.find("<svg"), std::string::npos);
    EXPECT_NE(html.find("valley"), std::string::npos);
    EXPECT_EQ(test::read_text(folder / "lr_find.tsv").rfind("step\tlr\tloss\tsmoothed_loss\n", 0),
              0u);
    const auto json = nlohmann::json::parse(test::read_text(folder / "lr_find.json"));
    const auto& curve = json.at("curve");
    EXPECT_GE(curve.size(), 2u);
    EXPECT_LE(curve.size(), static_cast<std::size_t>(steps));
    const double ratio = std::pow(1e8, 1.0 / static_cast<double>(steps - 1));
    EXPECT_NEAR(curve[0]["lr"].get<double>(), 1e-7, 1e-15);
    for (std::size_t i = 1; i < curve.size(); ++i) {
      EXPECT_NEAR(curve[i]["lr"].get<double>() / curve[i - 1]["lr"].get<double>(), ratio, 1e-9);
    }
    const double suggested = json.at("suggestion").at("lr").get<double>();
    EXPECT_TRUE(std::isfinite(suggested));
    EXPECT_GE(suggested, 1e-7);
    EXPECT_LE(suggested, 10.0);
    EXPECT_TRUE(std::isfinite(json.at("steep").at("lr").get<double>()));
    EXPECT_TRUE(std::isfinite(json.at("minimum").at("lr").get<double>()));
    return json;
  }

  static test::TempDir* dir_;
};
test::TempDir* LrFind::dir_ = nullptr;

TEST_F(LrFind, APretrainingRecipeGetsAPageAndASuggestionBesideItsRunFolder) {
  ASSERT_EQ(run("lr-find --config " + (*dir_ / "lm.toml").string() + " --steps 40"), 0) << err();
  const auto json = check_output(*dir_ / "runs/lr_find_lm", 40);
  EXPECT_EQ(json["command"], "pretrain");
  EXPECT_EQ(json["rate_key"], "train.lr");
  // The loss starts where an untrained model's does: near ln(71) for 3-mers and the specials.
  EXPECT_NEAR(json["curve"][0]["loss"].get<double>(), std::log(71.0), 0.5);
  EXPECT_NE(out().find("suggested learning rate: "), std::string::npos) << out();
  // The page as a reader sees it, with the suggested rate as lr_find.json gives it.
  char suggested[32];
  std::snprintf(suggested, sizeof suggested, "%.2e", json["suggestion"]["lr"].get<double>());
  EXPECT_EQ(test::check_page_in_chromium(*dir_ / "runs/lr_find_lm/lr_find.html",
                                         {"suggested rate (valley)", suggested, "steepest descent"},
                                         *dir_ / "page_out.txt", *dir_ / "page_err.txt"),
            0)
      << test::read_text(*dir_ / "page_err.txt");
  // Nothing of the training run was made: its corpus was built in the lr-find folder.
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "runs/lm"));
  EXPECT_TRUE(std::filesystem::exists(*dir_ / "runs/lr_find_lm/corpus/corpus.json"));
}

TEST_F(LrFind, AFineTuningRecipeStartsFromThePretrainedEncoder) {
  ASSERT_EQ(run("pretrain --config " + (*dir_ / "lm.toml").string()), 0) << err();
  const auto folder = *dir_ / "lr_motif";
  ASSERT_EQ(run("lr-find --config " + (*dir_ / "motif.toml").string() + " --steps 30 --out " +
                folder.string()),
            0)
      << err();
  const auto json = check_output(folder, 30);
  EXPECT_EQ(json["command"], "finetune");
  EXPECT_NE(json["rate_key"].get<std::string>().find("finetune.stage_lrs"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "runs/motif"));
  // Two classes, balanced: an untrained head starts near ln 2.
  EXPECT_NEAR(json["curve"][0]["loss"].get<double>(), std::log(2.0), 0.3);
}

TEST_F(LrFind, RefusesToWriteInsideARunFolder) {
  if (!std::filesystem::exists(*dir_ / "runs/lm/model.json")) {
    ASSERT_EQ(run("pretrain --config " + (*dir_ / "lm.toml").string()), 0) << err();
  }
  EXPECT_NE(run("lr-find --config " + (*dir_ / "motif.toml").string() + " --out " +
                (*dir_ / "runs/lm/lr").string()),
            0);
  EXPECT_NE(err().find("inside the run folder"), std::string::npos) << err();
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "runs/lm/lr"));
}

TEST_F(LrFind, BadRatesAreErrorsNamingTheFlag) {
  EXPECT_NE(run("lr-find --config " + (*dir_ / "lm.toml").string() + " --start-lr 1 --end-lr 0.1"),
            0);
  EXPECT_NE(err().find("--end-lr"), std::string::npos) << err();
}

}  // namespace
}  // namespace genolm
