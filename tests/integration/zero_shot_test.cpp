// Zero-shot scores end to end, from a small language model pretrained on tandem repeats:
// genolm score (FASTA, FASTQ and tables, row for row in input order, on one strand or both, to a
// file or a pipe) and genolm mutagenesis (every substitution's log-likelihood ratio, as tables,
// .npy grids and a page).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <sstream>

#include <cstring>

#include "genolm/tokenizers/alphabet.h"
#include "support/genolm_cli.h"
#include "support/genolm_process.h"
#include "support/test_files.h"

namespace genolm {
namespace {

// A float32 .npy written by genolm: its shape and values.
struct Npy {
  std::vector<std::size_t> shape;
  std::vector<float> values;
};
Npy read_npy(const std::filesystem::path& file) {
  const std::string bytes = test::read_text(file);
  const std::size_t header =
      10 + static_cast<unsigned char>(bytes[8]) + 256 * static_cast<unsigned char>(bytes[9]);
  Npy npy;
  const auto open = bytes.find("'shape': (") + 10;
  std::istringstream dims(bytes.substr(open, bytes.find(')', open) - open));
  std::size_t dim = 0;
  char comma = 0;
  while (dims >> dim) {
    npy.shape.push_back(dim);
    dims >> comma;
  }
  npy.values.resize((bytes.size() - header) / sizeof(float));
  std::memcpy(npy.values.data(), bytes.data() + header, npy.values.size() * sizeof(float));
  return npy;
}

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

class ZeroShot : public ::testing::Test {
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

  static int score(const std::string& words) { return score_command("score", words); }
  static int score_command(const std::string& command, const std::string& words) {
    return test::run_genolm(dir_->path(),
                            command + " --model " + (*dir_ / "runs" / "lm").string() + " " + words);
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

std::unique_ptr<test::TempDir> ZeroShot::dir_;
std::string ZeroShot::repeats_;
std::vector<std::pair<std::string, std::string>> ZeroShot::records_;

TEST_F(ZeroShot, ScoreGivesOneRowPerRecordInInputOrderWithItsNormalisations) {
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

TEST_F(ZeroShot, ScoreReadsFastqAndTablesAsFasta) {
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

TEST_F(ZeroShot, ScoreRcAverageIsTheMeanOfBothStrandsAndTheSameFromEither) {
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

TEST_F(ZeroShot, ScoreWritesToStandardOutputForADash) {
  scores_of("records.fa");
  const auto file = test::read_text(*dir_ / "scores.tsv");
  ASSERT_EQ(score("--input " + (*dir_ / "records.fa").string() + " --out -"), 0) << err();
  EXPECT_EQ(test::read_text(*dir_ / "out.txt"), file);
}

// fp32 is the default on the CPU; bf16 is a choice, close to it but not the same arithmetic.
TEST_F(ZeroShot, ScorePrecisionIsAChoice) {
  const auto fp32 = scores_of("records.fa");
  const auto named = scores_of("records.fa", "--precision fp32");
  const auto bf16 = scores_of("records.fa", "--precision bf16");
  ASSERT_EQ(bf16.size(), fp32.size());
  bool any_different = false;
  for (std::size_t i = 0; i < fp32.size(); ++i) {
    EXPECT_EQ(named[i].log_likelihood, fp32[i].log_likelihood);
    EXPECT_NEAR(bf16[i].log_likelihood, fp32[i].log_likelihood,
                0.02 * std::abs(fp32[i].log_likelihood));
    any_different = any_different || bf16[i].log_likelihood != fp32[i].log_likelihood;
  }
  EXPECT_TRUE(any_different);
  EXPECT_NE(score("--input " + (*dir_ / "records.fa").string() + " --precision fp16"), 0);
}

TEST_F(ZeroShot, ScoreRefusesWhatItCannotScore) {
  test::write_text(*dir_ / "empty.fa", ">only\n\n");
  EXPECT_NE(score("--input " + (*dir_ / "empty.fa").string() + " --out x.tsv"), 0);
  EXPECT_NE(err().find("empty sequence"), std::string::npos) << err();
  EXPECT_NE(test::run_genolm(dir_->path(), "score --model " + dir_->path().string() + " --input " +
                                               (*dir_ / "records.fa").string()),
            0);
  EXPECT_NE(err().find("holds no model.json"), std::string::npos) << err();
}

struct MutationRow {
  std::string id, ref, alt;
  std::size_t position = 0;
  double llr = 0;
};

std::vector<MutationRow> parse_mutations(const std::filesystem::path& file) {
  std::istringstream lines(test::read_text(file));
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "id\tposition\tref\talt\tllr");
  std::vector<MutationRow> rows;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    MutationRow row;
    fields >> row.id >> row.position >> row.ref >> row.alt >> row.llr;
    rows.push_back(row);
  }
  return rows;
}

TEST_F(ZeroShot, MutagenesisScoresEverySubstitutionWithTheReferenceAtZero) {
  const auto out = *dir_ / "scan";
  ASSERT_EQ(score_command("mutagenesis", "--input " + (*dir_ / "records.fa").string() + " --out " +
                                             out.string() + " --region 2-10"),
            0)
      << err();
  const auto rows = parse_mutations(out / "mutations.tsv");
  ASSERT_EQ(rows.size(), records_.size() * 9 * 3);
  const std::string letters = "ACGT";
  for (std::size_t r = 0; r < records_.size(); ++r) {
    const auto& [id, dna] = records_[r];
    const auto grid = read_npy(out / (id + ".llr.npy"));
    ASSERT_EQ(grid.shape, (std::vector<std::size_t>{9, 4})) << id;
    for (std::size_t p = 0; p < 9; ++p) {
      const char reference = dna[p + 1];
      EXPECT_EQ(grid.values[p * 4 + letters.find(reference)], 0.0f) << id << " " << p;
      for (std::size_t k = 0; k < 3; ++k) {
        const auto& row = rows[r * 27 + p * 3 + k];
        EXPECT_EQ(row.id, id);
        EXPECT_EQ(row.position, p + 2);
        EXPECT_EQ(row.ref, std::string(1, reference));
        EXPECT_NE(row.alt, row.ref);
        EXPECT_NEAR(grid.values[p * 4 + letters.find(row.alt)], row.llr,
                    1e-4 + 1e-5 * std::abs(row.llr));
      }
    }
  }
  const auto page = test::read_text(out / "index.html");
  EXPECT_NE(page.find("<svg"), std::string::npos);
  EXPECT_NE(page.find("repeat: llr, positions 2-10"), std::string::npos);
  EXPECT_NE(
      test::read_text(out / "sequences.tsv").find("short_repeat\tshort_repeat\t40\t2\t10\tACGT"),
      std::string::npos);
}

// The last base's 3-mer is the last token: nothing follows the change, so its ratio is the
// difference of the two sequences' log-likelihoods, which genolm score gives.
TEST_F(ZeroShot, MutagenesisOfTheLastBaseIsTheDifferenceOfScores) {
  const auto& dna = records_[0].second;
  const auto out = *dir_ / "last";
  test::write_text(*dir_ / "repeat.fa", test::fasta_record("repeat", dna));
  ASSERT_EQ(
      score_command("mutagenesis", "--input " + (*dir_ / "repeat.fa").string() + " --out " +
                                       out.string() + " --region " + std::to_string(dna.size()) +
                                       "-" + std::to_string(dna.size())),
      0)
      << err();
  const auto rows = parse_mutations(out / "mutations.tsv");
  std::string fasta = test::fasta_record("reference", dna);
  for (std::size_t k = 0; k < 3; ++k) {
    std::string mutant = dna;
    mutant.back() = rows[k].alt[0];
    fasta += test::fasta_record("mutant", mutant);
  }
  test::write_text(*dir_ / "last.fa", fasta);
  const auto scores = scores_of("last.fa");
  for (std::size_t k = 0; k < 3; ++k) {
    EXPECT_NEAR(rows[k].llr, scores[k + 1].log_likelihood - scores[0].log_likelihood, 2e-4);
  }
}

// Averaged over strands, a sequence and its reverse complement are scanned alike: position p's
// substitution by a letter is position L-1-p's by its complement on the other strand.
TEST_F(ZeroShot, MutagenesisStrandAverageIsSymmetric) {
  ASSERT_EQ(score_command("mutagenesis", "--input " + (*dir_ / "records.fa").string() + " --out " +
                                             (*dir_ / "fwd").string() + " --rc-average"),
            0)
      << err();
  ASSERT_EQ(
      score_command("mutagenesis", "--input " + (*dir_ / "records_rc.fa").string() + " --out " +
                                       (*dir_ / "rev").string() + " --rc-average"),
      0)
      << err();
  const auto forward = read_npy(*dir_ / "fwd" / "short_repeat.llr.npy");
  const auto reverse = read_npy(*dir_ / "rev" / "short_repeat.llr.npy");
  ASSERT_EQ(forward.shape, (std::vector<std::size_t>{40, 4}));
  ASSERT_EQ(reverse.shape, forward.shape);
  for (std::size_t p = 0; p < 40; ++p)
    for (std::size_t l = 0; l < 4; ++l)  // ACGT's complements are TGCA: index 3 - l
      EXPECT_NEAR(forward.values[p * 4 + l], reverse.values[(39 - p) * 4 + (3 - l)], 1e-4)
          << p << " " << l;
}

TEST_F(ZeroShot, MutagenesisRefusesABadRegion) {
  EXPECT_NE(score_command("mutagenesis", "--input " + (*dir_ / "records.fa").string() + " --out " +
                                             (*dir_ / "bad").string() + " --region 10-5"),
            0);
  EXPECT_NE(err().find("--region '10-5': END comes before START"), std::string::npos) << err();
  EXPECT_NE(score_command("mutagenesis", "--input " + (*dir_ / "records.fa").string() + " --out " +
                                             (*dir_ / "bad").string() + " --region 151-160"),
            0);
  EXPECT_NE(err().find("record 'repeat' has 150 letters: --region starts at 151"),
            std::string::npos)
      << err();
}

// The llr column of a variants table, by id; "nan" reads as NaN.
std::map<std::string, double> variant_scores(const std::filesystem::path& file) {
  std::map<std::string, double> scores;
  std::istringstream lines(test::read_text(file));
  std::string line;
  std::getline(lines, line);
  while (std::getline(lines, line)) {
    const auto tab = line.rfind('\t');
    scores[line.substr(0, line.find('\t'))] = std::stod(line.substr(tab + 1));
  }
  return scores;
}

// A window wider than the contig is the whole contig, which is what mutagenesis reads: the same
// substitutions then score the same, at the contig's first and last base too, in any batch size,
// and whether the alleles of a site come as one record or as several (they share one set).
TEST_F(ZeroShot, VariantsOfAVcfAreMutagenesisOfTheirWindow) {
  ASSERT_EQ(score_command("mutagenesis", "--input " + (*dir_ / "records.fa").string() + " --out " +
                                             (*dir_ / "scan").string()),
            0)
      << err();
  std::map<std::string, double> scan;
  for (const auto& row : parse_mutations(*dir_ / "scan" / "mutations.tsv"))
    scan[row.id + ":" + std::to_string(row.position) + row.alt] = row.llr;
  const auto base = [&](std::size_t record, std::size_t position) {
    return std::string(1, records_[record].second[position - 1]);
  };
  const auto other = [&](const std::string& b) { return std::string(b == "A" ? "C" : "A"); };
  // The three alternatives of one site: two in one record, the third in a record of its own.
  const std::string middle_ref = base(0, 10);
  std::vector<std::string> middle_alts;
  for (const char b : std::string("ACGT"))
    if (std::string(1, b) != middle_ref) middle_alts.emplace_back(1, b);
  const std::string vcf =
      "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
      "repeat\t10\tmiddle\t" +
      middle_ref + "\t" + middle_alts[0] + "," + middle_alts[1] + "\t.\t.\t.\n" +
      "repeat\t10\tsplit\t" + middle_ref + "\t" + middle_alts[2] + "\t.\t.\t.\n" +
      "short_repeat\t40\tlast\t" + base(2, 40) + "\t" + other(base(2, 40)) + "\t.\t.\t.\n" +
      "noise\t1\tfirst\t" + base(1, 1) + "\t" + other(base(1, 1)) + "\t.\t.\t.\n" +
      "noise\t5\tindel\t" + base(1, 5) + "\t" + base(1, 5) + "T\t.\t.\t.\n";
  test::write_text(*dir_ / "v.vcf", vcf);
  std::filesystem::copy_file(*dir_ / "records.fa", *dir_ / "reference.fa",
                             std::filesystem::copy_options::overwrite_existing);
  for (const std::string batch : {"1", "64"}) {
    const auto out = *dir_ / ("variants_" + batch + ".tsv");
    ASSERT_EQ(score_command("variants", "--vcf " + (*dir_ / "v.vcf").string() + " --reference " +
                                            (*dir_ / "reference.fa").string() +
                                            " --window 1000 --batch-size " + batch + " --out " +
                                            out.string()),
              0)
        << err();
    const auto text = test::read_text(out);
    EXPECT_EQ(text.substr(0, text.find('\n')), "id\tchrom\tpos\tref\talt\tllr");
    std::istringstream lines(text);
    std::string line;
    std::vector<std::string> ids;
    std::getline(lines, line);
    while (std::getline(lines, line))
      ids.push_back(line.substr(0, line.find('\t')));
    // One row per allele, in input order.
    EXPECT_EQ(ids,
              (std::vector<std::string>{"middle", "middle", "split", "last", "first", "indel"}));
    std::istringstream again(text);
    std::getline(again, line);
    for (const auto& alt : middle_alts) {
      std::getline(again, line);
      EXPECT_NEAR(std::stod(line.substr(line.rfind('\t') + 1)), scan.at("repeat:10" + alt), 1e-4)
          << batch << " " << alt;
    }
    const auto scores = variant_scores(out);
    EXPECT_NEAR(scores.at("last"), scan["short_repeat:40" + other(base(2, 40))], 1e-4) << batch;
    EXPECT_NEAR(scores.at("first"), scan["noise:1" + other(base(1, 1))], 1e-4) << batch;
    EXPECT_TRUE(std::isnan(scores.at("indel")));
  }
  EXPECT_TRUE(std::filesystem::exists(*dir_ / "reference.fa.fai"));
  EXPECT_NE(err().find("1 insertions or deletions"), std::string::npos) << err();
}

// --out x.vcf[.gz] writes the input VCF with the scores as INFO fields, one value per allele.
TEST_F(ZeroShot, VariantsAnnotateAVcf) {
  const char ref = records_[0].second[9];
  const std::string alts = ref == 'A' ? "C,G" : "A,G";
  test::write_text(*dir_ / "in.vcf",
                   std::string("##fileformat=VCFv4.2\n##INFO=<ID=AF,Number=A,Type=Float,"
                               "Description=\"frequency\">\n") +
                       "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + "repeat\t10\tsnv\t" +
                       ref + "\t" + alts + "\t.\tPASS\tAF=0.1,0.2\n" + "repeat\t20\tindel\t" +
                       records_[0].second[19] + "\t" + records_[0].second[19] + "T\t.\t.\t.\n");
  std::filesystem::copy_file(*dir_ / "records.fa", *dir_ / "reference.fa",
                             std::filesystem::copy_options::overwrite_existing);
  const std::string words = "--vcf " + (*dir_ / "in.vcf").string() + " --reference " +
                            (*dir_ / "reference.fa").string() + " --window 60 --out ";
  ASSERT_EQ(score_command("variants", words + (*dir_ / "scores.tsv").string()), 0) << err();
  ASSERT_EQ(score_command("variants", words + (*dir_ / "out.vcf").string()), 0) << err();
  ASSERT_EQ(score_command("variants", words + (*dir_ / "out.vcf.gz").string()), 0) << err();
  std::istringstream table(test::read_text(*dir_ / "scores.tsv"));
  std::string line;
  std::vector<double> llr;
  std::getline(table, line);
  while (std::getline(table, line))
    llr.push_back(std::stod(line.substr(line.rfind('\t') + 1)));
  ASSERT_EQ(llr.size(), 3u);
  const auto vcf = test::read_text(*dir_ / "out.vcf");
  EXPECT_NE(vcf.find("##INFO=<ID=GENOLM_LLR,Number=A,Type=Float,"), std::string::npos) << vcf;
  const auto snv = vcf.substr(vcf.find("repeat\t10\tsnv"));
  const auto info =
      snv.substr(snv.find("GENOLM_LLR=") + 11, snv.find('\n') - snv.find("GENOLM_LLR=") - 11);
  EXPECT_NE(snv.find("AF=0.1,0.2;GENOLM_LLR="), std::string::npos) << snv;
  EXPECT_NEAR(std::stod(info.substr(0, info.find(','))), llr[0], 1e-4) << info;
  EXPECT_NEAR(std::stod(info.substr(info.find(',') + 1)), llr[1], 1e-4) << info;
  const auto indel = vcf.substr(vcf.find("repeat\t20\tindel"));
  EXPECT_EQ(indel.substr(0, indel.find('\n')).find("GENOLM_LLR"), std::string::npos) << indel;
  const auto gz = test::read_text(*dir_ / "out.vcf.gz");
  ASSERT_GT(gz.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);  // bgzip
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "out.vcf.scores.tsv"));
}

// Under genolm launch the ranks share the blocks of variants, and rank 0 puts them back in input
// order: the table (and the annotated VCF) is the single process's, byte for byte.
TEST_F(ZeroShot, VariantsOfTwoRanksComeBackInInputOrder) {
  std::string vcf = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n";
  const std::string& dna = records_[0].second;
  for (std::size_t position = 1; position <= 40; ++position) {
    const char ref = dna[position - 1];
    vcf += "repeat\t" + std::to_string(position) + "\tv" + std::to_string(position) + "\t" + ref +
           "\t" + (ref == 'A' ? "C" : "A") + (position % 9 == 0 ? ",AT" : "") + "\t.\t.\t.\n";
  }
  test::write_text(*dir_ / "many.vcf", vcf);
  std::filesystem::copy_file(*dir_ / "records.fa", *dir_ / "reference.fa",
                             std::filesystem::copy_options::overwrite_existing);
  const std::string words = "variants --model " + (*dir_ / "runs" / "lm").string() + " --vcf " +
                            (*dir_ / "many.vcf").string() + " --reference " +
                            (*dir_ / "reference.fa").string() +
                            " --window 30 --block-size 7 --out ";
  for (const std::string out : {"one.tsv", "one.vcf"})
    ASSERT_EQ(test::run_genolm(dir_->path(), words + (*dir_ / out).string()), 0) << err();
  for (const std::string out : {"two.tsv", "two.vcf"}) {
    ASSERT_EQ(test::run_genolm(dir_->path(), "launch --nproc 2 --master-port " +
                                                 std::to_string(test::free_port()) + " -- " +
                                                 words + (*dir_ / out).string()),
              0)
        << err();
  }
  const auto one = test::read_text(*dir_ / "one.tsv");
  EXPECT_EQ(std::count(one.begin(), one.end(), '\n'), 1 + 40 + 4);  // header, SNVs, 4 indels
  EXPECT_EQ(test::read_text(*dir_ / "two.tsv"), one);
  EXPECT_EQ(test::read_text(*dir_ / "two.vcf"), test::read_text(*dir_ / "one.vcf"));
  for (const auto& entry : std::filesystem::directory_iterator(dir_->path()))
    EXPECT_EQ(entry.path().string().find(".part-"), std::string::npos) << entry.path();
}

// The embedding distance is the distance between what genolm embed gives for the two windows.
TEST_F(ZeroShot, VariantsEmbeddingDistanceIsTheDistanceOfEmbeddings) {
  const auto& dna = records_[2].second;  // short_repeat, 40 bases: the window holds it whole
  const char alt = dna[19] == 'A' ? 'C' : 'A';
  test::write_text(
      *dir_ / "one.vcf",
      std::string("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n") +
          "short_repeat\t20\tv\t" + dna[19] + "\t" + alt + "\t.\t.\t.\n");
  std::filesystem::copy_file(*dir_ / "records.fa", *dir_ / "reference.fa",
                             std::filesystem::copy_options::overwrite_existing);
  ASSERT_EQ(score_command("variants", "--vcf " + (*dir_ / "one.vcf").string() + " --reference " +
                                          (*dir_ / "reference.fa").string() +
                                          " --window 100 --embedding-distance --out " +
                                          (*dir_ / "distance.tsv").string()),
            0)
      << err();
  const auto text = test::read_text(*dir_ / "distance.tsv");
  EXPECT_EQ(text.substr(0, text.find('\n')), "id\tchrom\tpos\tref\talt\tllr\tembedding_distance");
  const double distance = std::stod(text.substr(text.rfind('\t', text.size() - 2) + 1));
  std::string mutant = dna;
  mutant[19] = alt;
  test::write_text(*dir_ / "pair.fa",
                   test::fasta_record("ref", dna) + test::fasta_record("alt", mutant));
  ASSERT_EQ(
      test::run_genolm(dir_->path(), "embed --model " + (*dir_ / "runs" / "lm").string() +
                                         " --input " + (*dir_ / "pair.fa").string() +
                                         " --pool mean --out " + (*dir_ / "pair.npy").string()),
      0)
      << err();
  const auto pair = read_npy(*dir_ / "pair.npy");
  ASSERT_EQ(pair.shape.size(), 2u);
  double squares = 0;
  for (std::size_t d = 0; d < pair.shape[1]; ++d) {
    const double difference = pair.values[d] - pair.values[pair.shape[1] + d];
    squares += difference * difference;
  }
  EXPECT_GT(distance, 0);
  EXPECT_NEAR(distance, std::sqrt(squares), 1e-4 + 1e-4 * distance);
}

TEST_F(ZeroShot, VariantsWithAWrongRefAreAnErrorOrACountedSkip) {
  const char wrong = records_[0].second[9] == 'A' ? 'C' : 'A';
  test::write_text(
      *dir_ / "wrong.vcf",
      std::string("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n") +
          "repeat\t10\tv1\t" + wrong + "\tG\t.\t.\t.\n" + "chr9\t10\tv2\tA\tG\t.\t.\t.\n");
  std::filesystem::copy_file(*dir_ / "records.fa", *dir_ / "reference.fa",
                             std::filesystem::copy_options::overwrite_existing);
  const std::string words = "--vcf " + (*dir_ / "wrong.vcf").string() + " --reference " +
                            (*dir_ / "reference.fa").string() + " --out " +
                            (*dir_ / "wrong.tsv").string();
  EXPECT_NE(score_command("variants", words), 0);
  EXPECT_NE(err().find("record 1 (repeat:10 " + std::string(1, wrong) + ">G): REF '" + wrong +
                       "' is not the reference's"),
            std::string::npos)
      << err();
  EXPECT_NE(score_command("variants", words + " --skip-mismatches"), 0);
  EXPECT_NE(err().find("record 2 (chr9:10 A>G): the reference"), std::string::npos) << err();
  EXPECT_NE(err().find("has no contig 'chr9'"), std::string::npos) << err();
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "wrong.tsv"));  // no half table
}

// Mutants in deep mutational scanning's notation are mutagenesis of the wild type too.
TEST_F(ZeroShot, VariantsInMutantNotationAreMutagenesisOfTheWildType) {
  const auto& wild_type = records_[2].second;
  test::write_text(*dir_ / "wt.fa", test::fasta_record("wt", wild_type));
  ASSERT_EQ(score_command("mutagenesis", "--input " + (*dir_ / "wt.fa").string() + " --out " +
                                             (*dir_ / "wt_scan").string()),
            0)
      << err();
  std::map<std::string, double> scan;
  for (const auto& row : parse_mutations(*dir_ / "wt_scan" / "mutations.tsv"))
    scan[row.ref + std::to_string(row.position + 99) + row.alt] = row.llr;
  const std::string first = wild_type.substr(0, 1) + "100" + (wild_type[0] == 'A' ? "C" : "A");
  const std::string last = wild_type.substr(39, 1) + "139" + (wild_type[39] == 'G' ? "T" : "G");
  test::write_text(*dir_ / "mutants.csv", "name,fitness\n" + first + ",1\n" + last + ",2\n");
  ASSERT_EQ(score_command("variants",
                          "--mutants " + (*dir_ / "mutants.csv").string() +
                              " --mutant-column name --wildtype " + (*dir_ / "wt.fa").string() +
                              " --first-position 100 --out " + (*dir_ / "dms.tsv").string()),
            0)
      << err();
  const auto scores = variant_scores(*dir_ / "dms.tsv");
  EXPECT_NEAR(scores.at(first), scan.at(first), 1e-4);
  EXPECT_NEAR(scores.at(last), scan.at(last), 1e-4);
  test::write_text(*dir_ / "bad.csv", "name\n" + first + "\nQ5\n");
  EXPECT_NE(score_command("variants", "--mutants " + (*dir_ / "bad.csv").string() +
                                          " --mutant-column name --wildtype " +
                                          (*dir_ / "wt.fa").string() + " --first-position 100"),
            0);
  EXPECT_NE(err().find("bad.csv line 3: mutant 'Q5': expected changes such as H24C"),
            std::string::npos)
      << err();
}

}  // namespace
}  // namespace genolm
