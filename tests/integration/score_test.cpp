// genolm score end to end: a small language model pretrained on tandem repeats scores FASTA,
// FASTQ and tables, row for row in input order, on one strand or both, to a file or a pipe.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <sstream>

#include "genolm/tokenizers/alphabet.h"
#include "support/genolm_cli.h"
#include "support/test_files.h"

namespace genolm {
namespace {

struct ScoreRow {
  std::string id;
  double log_likelihood = 0, per_token = 0, per_base = 0;
};

std::vector<ScoreRow> parse_scores(const std::string& text) {
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "id\tlog_likelihood\tlog_likelihood_per_token\tlog_likelihood_per_base");
  std::vector<ScoreRow> rows;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    ScoreRow row;
    fields >> row.id >> row.log_likelihood >> row.per_token >> row.per_base;
    rows.push_back(row);
  }
  return rows;
}

class Score : public ::testing::Test {
 protected:
  // 100 steps on tandem repeats: enough for the model to find repeats far likelier than noise.
  static void SetUpTestSuite() {
    dir_ = std::make_unique<test::TempDir>();
    repeats_ = test::tandem_repeats(60000, 3);
    test::write_text(*dir_ / "genome.fa", test::fasta_record("repeats", repeats_));
    test::write_text(*dir_ / "lm.toml",
                     "[run]\nname = \"lm\"\ndir = \"" + (*dir_ / "runs").string() +
                         "\"\nseed = 7\n[data]\ntrain = [\"" + (*dir_ / "genome.fa").string() +
                         "\"]\nvalid_fraction = 0.05\nvalid_block_bases = 2000\n"
                         "[tokenizer]\nkind = \"kmer\"\nk = 3\nstride = 1\n"
                         "[model]\nemb_size = 24\nhidden_size = 48\nlayers = 2\n"
                         "[train]\ndevice = \"cpu\"\nbatch_size = 16\nbptt = 30\nlr = 1e-2\n"
                         "max_steps = 100\neval_every = 100\ncheckpoint_every = 100\n");
    ASSERT_EQ(test::run_genolm(dir_->path(), "pretrain --config " + (*dir_ / "lm.toml").string()),
              0)
        << test::read_text(*dir_ / "err.txt");
    records_ = {{"repeat", repeats_.substr(1000, 150)},
                {"noise", test::random_dna(150, 11)},
                {"short_repeat", repeats_.substr(5000, 40)}};
    std::string fasta, fastq, table = "name\tseq\n", rc_fasta;
    for (const auto& [id, dna] : records_) {
      fasta += test::fasta_record(id, dna);
      fastq += "@" + id + " read\n" + dna + "\n+\n" + std::string(dna.size(), 'I') + "\n";
      table += id + "\t" + dna + "\n";
      rc_fasta += test::fasta_record(id, tokenizers::reverse_complement(dna));
    }
    test::write_text(*dir_ / "records.fa", fasta);
    test::write_text(*dir_ / "records.fq", fastq);
    test::write_gzip(*dir_ / "records.tsv.gz", table);
    test::write_text(*dir_ / "records_rc.fa", rc_fasta);
  }
  static void TearDownTestSuite() { dir_.reset(); }

  static int score(const std::string& words) {
    return test::run_genolm(dir_->path(),
                            "score --model " + (*dir_ / "runs" / "lm").string() + " " + words);
  }
  static std::vector<ScoreRow> scores_of(const std::string& input, const std::string& more = "") {
    const auto out = *dir_ / "scores.tsv";
    EXPECT_EQ(score("--input " + (*dir_ / input).string() + " --out " + out.string() + " " + more),
              0)
        << err();
    return parse_scores(test::read_text(out));
  }
  static std::string err() { return test::read_text(*dir_ / "err.txt"); }

  static std::unique_ptr<test::TempDir> dir_;
  static std::string repeats_;
  static std::vector<std::pair<std::string, std::string>> records_;
};

std::unique_ptr<test::TempDir> Score::dir_;
std::string Score::repeats_;
std::vector<std::pair<std::string, std::string>> Score::records_;

TEST_F(Score, GivesOneRowPerRecordInInputOrderWithItsNormalisations) {
  const auto rows = scores_of("records.fa");
  ASSERT_EQ(rows.size(), records_.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& dna = records_[i].second;
    EXPECT_EQ(rows[i].id, records_[i].first);
    EXPECT_LT(rows[i].log_likelihood, 0);
    // 3-mers at stride 1: one token per base after the first two.
    EXPECT_NEAR(rows[i].per_token * static_cast<double>(dna.size() - 2), rows[i].log_likelihood,
                1e-3);
    EXPECT_NEAR(rows[i].per_base * static_cast<double>(dna.size()), rows[i].log_likelihood, 1e-3);
  }
  // The model learnt the repeats: they are far likelier per base than noise (ln 4 = 1.39).
  EXPECT_GT(rows[0].per_base, rows[1].per_base + 0.3);
}

TEST_F(Score, ReadsFastqAndTablesAsFasta) {
  const auto fasta = scores_of("records.fa");
  for (const auto& [input, more] : std::map<std::string, std::string>{
           {"records.fq", ""}, {"records.tsv.gz", "--id-column name --sequence-columns seq"}}) {
    const auto rows = scores_of(input, more);
    ASSERT_EQ(rows.size(), fasta.size()) << input;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      EXPECT_EQ(rows[i].id, fasta[i].id) << input;
      EXPECT_NEAR(rows[i].log_likelihood, fasta[i].log_likelihood, 1e-5) << input;
    }
  }
}

TEST_F(Score, RcAverageIsTheMeanOfBothStrandsAndTheSameFromEither) {
  const auto forward = scores_of("records.fa");
  const auto reverse = scores_of("records_rc.fa");
  const auto both = scores_of("records.fa", "--rc-average");
  const auto both_from_reverse = scores_of("records_rc.fa", "--rc-average");
  for (std::size_t i = 0; i < forward.size(); ++i) {
    EXPECT_NEAR(both[i].log_likelihood, (forward[i].log_likelihood + reverse[i].log_likelihood) / 2,
                1e-4);
    EXPECT_NEAR(both_from_reverse[i].log_likelihood, both[i].log_likelihood, 1e-4);
  }
}

TEST_F(Score, WritesToStandardOutputForADash) {
  scores_of("records.fa");
  const auto file = test::read_text(*dir_ / "scores.tsv");
  ASSERT_EQ(score("--input " + (*dir_ / "records.fa").string() + " --out -"), 0) << err();
  EXPECT_EQ(test::read_text(*dir_ / "out.txt"), file);
}

TEST_F(Score, RefusesWhatItCannotScore) {
  test::write_text(*dir_ / "empty.fa", ">only\n\n");
  EXPECT_NE(score("--input " + (*dir_ / "empty.fa").string() + " --out x.tsv"), 0);
  EXPECT_NE(err().find("empty sequence"), std::string::npos) << err();
  EXPECT_NE(test::run_genolm(dir_->path(), "score --model " + dir_->path().string() + " --input " +
                                               (*dir_ / "records.fa").string()),
            0);
  EXPECT_NE(err().find("holds no model.json"), std::string::npos) << err();
}

}  // namespace
}  // namespace genolm
