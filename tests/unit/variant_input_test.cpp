// What genolm variants reads before a model sees anything: VCF records (htslib), windows of an
// indexed reference around them, and protein mutants in deep mutational scanning's notation.
#include <gtest/gtest.h>

#include "io/reference_genome.h"
#include "io/vcf_reader.h"
#include "support/test_files.h"
#include "variants/protein_mutants.h"
#include "variants/variant_window.h"

namespace genolm::variants {
namespace {

constexpr const char* kVcfHeader =
    "##fileformat=VCFv4.2\n##contig=<ID=c1,length=40>\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n";

TEST(ProteinMutants, ReadsSingleAndMultipleChangesWithAnOffset) {
  const std::string wild_type = "HPETLV";  // residues 24-29
  const auto single = parse_mutant("H24C", wild_type, 24);
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0].index, 0u);
  EXPECT_EQ(apply_changes(wild_type, single), "CPETLV");
  const auto double_mutant = parse_mutant("P25A:V29*", wild_type, 24);
  EXPECT_EQ(apply_changes(wild_type, double_mutant), "HAETL*");
}

TEST(ProteinMutants, MalformedOrWrongMutantsAreClearErrors) {
  const std::string wild_type = "HPETLV";
  const auto error = [&](const char* text) {
    return test::error_of([&] { parse_mutant(text, wild_type, 24); });
  };
  EXPECT_NE(error("H24").find("expected changes such as H24C"), std::string::npos);
  EXPECT_NE(error("h24c").find("expected changes such as H24C"), std::string::npos);
  EXPECT_NE(error("H2xC").find("expected changes such as H24C"), std::string::npos);
  EXPECT_NE(error("H24C:").find("not ''"), std::string::npos);
  EXPECT_NE(error("H30C").find("position 30 is outside the wild type (positions 24 to 29)"),
            std::string::npos);
  EXPECT_NE(error("A24C").find("the wild type has H at 24, not A"), std::string::npos);
  EXPECT_NE(error("H24C:H24D").find("position 24 changes twice"), std::string::npos);
}

class VariantWindows : public ::testing::Test {
 protected:
  void SetUp() override {
    contig_ = test::random_dna(40, 3);
    test::write_text(dir_ / "ref.fa", ">c1 test\n" + contig_.substr(0, 25) + "\n" +
                                          contig_.substr(25) + "\n>c2\nACGT\n");
  }
  io::VcfVariant snv(std::int64_t position, char alt) const {
    return {.chrom = "c1",
            .position = position,
            .id = "v",
            .ref = std::string(1, contig_[static_cast<std::size_t>(position - 1)]),
            .alts = {std::string(1, alt)},
            .record = 7};
  }
  test::TempDir dir_;
  std::string contig_;
};

TEST_F(VariantWindows, AreCentredAndClippedAtContigEnds) {
  const io::ReferenceGenome genome(dir_ / "ref.fa");  // builds ref.fa.fai
  EXPECT_TRUE(std::filesystem::exists(dir_ / "ref.fa.fai"));
  EXPECT_EQ(genome.contig_length("c1"), 40);
  auto middle = variant_window(genome, snv(20, 'N'), "N", 10);
  // 4 bases before the variant, 5 after.
  EXPECT_EQ(middle.start, 15);
  EXPECT_EQ(middle.reference, contig_.substr(15, 10));
  EXPECT_EQ(middle.alternative[4], 'N');
  EXPECT_EQ(middle.alternative.substr(0, 4), middle.reference.substr(0, 4));
  EXPECT_EQ(middle.alternative.substr(5), middle.reference.substr(5));
  const auto first = variant_window(genome, snv(1, 'N'), "N", 10);
  EXPECT_EQ(first.start, 0);
  EXPECT_EQ(first.reference, contig_.substr(0, 6));  // clipped, not shifted
  const auto last = variant_window(genome, snv(40, 'N'), "N", 10);
  EXPECT_EQ(last.reference, contig_.substr(35));
  EXPECT_EQ(last.alternative.back(), 'N');
  const auto whole = variant_window(genome, snv(3, 'N'), "N", 1000);
  EXPECT_EQ(whole.reference, contig_);
}

TEST_F(VariantWindows, WrongReferencesAndContigsAreClearErrors) {
  const io::ReferenceGenome genome(dir_ / "ref.fa");
  auto wrong = snv(20, 'A');
  wrong.ref = wrong.ref == "C" ? "G" : "C";
  EXPECT_NE(test::error_of([&] { variant_window(genome, wrong, "A", 10); })
                .find("record 7 (c1:20 " + wrong.ref + ">A): REF '" + wrong.ref +
                      "' is not the reference's"),
            std::string::npos);
  bool mismatch = false;
  variant_window(genome, wrong, "A", 10, &mismatch);
  EXPECT_TRUE(mismatch);
  auto elsewhere = snv(20, 'A');
  elsewhere.chrom = "chr9";
  EXPECT_NE(test::error_of([&] {
              variant_window(genome, elsewhere, "A", 10);
            }).find("has no contig 'chr9'"),
            std::string::npos);
  auto beyond = snv(4, 'A');
  beyond.chrom = "c2";
  beyond.position = 5;
  EXPECT_NE(test::error_of([&] {
              variant_window(genome, beyond, "A", 10);
            }).find("lies past the end of contig 'c2'"),
            std::string::npos);
  EXPECT_EQ(allele_kind("A", "G"), AlleleKind::substitution);
  EXPECT_EQ(allele_kind("AC", "GT"), AlleleKind::substitution);
  EXPECT_EQ(allele_kind("A", "AT"), AlleleKind::indel);
  EXPECT_EQ(allele_kind("A", "<DEL>"), AlleleKind::symbolic);
  EXPECT_EQ(allele_kind("A", "*"), AlleleKind::symbolic);
}

TEST_F(VariantWindows, APlainGzipReferenceIsAClearError) {
  test::write_gzip(dir_ / "ref.fa.gz", ">c1\nACGT\n");
  EXPECT_NE(test::error_of([&] {
              io::ReferenceGenome genome(dir_ / "ref.fa.gz");
            }).find("recompress it with 'bgzip'"),
            std::string::npos);
  EXPECT_NE(
      test::error_of([&] { io::ReferenceGenome genome(dir_ / "none.fa"); }).find("does not exist"),
      std::string::npos);
}

TEST(VcfReader, ReadsRecordsAndAlternativesInOrder) {
  test::TempDir dir;
  test::write_text(dir / "v.vcf", std::string(kVcfHeader) +
                                      "c1\t5\trs1\tA\tG,T\t.\tPASS\t.\tGT\t0/1\n"
                                      "c1\t9\t.\tC\t.\t.\t.\t.\tGT\t0/0\n"
                                      "c1\t12\tdel\tCA\tC\t50\t.\tDP=3\tGT\t1/1\n");
  for (const auto& file : {dir / "v.vcf", dir / "v.vcf.gz"}) {
    if (file.extension() == ".gz") test::write_gzip(file, test::read_text(dir / "v.vcf"));
    io::VcfReader reader(file);
    io::VcfVariant variant;
    ASSERT_TRUE(reader.next(variant)) << file;
    EXPECT_EQ(variant.chrom, "c1");
    EXPECT_EQ(variant.position, 5);
    EXPECT_EQ(variant.id, "rs1");
    EXPECT_EQ(variant.ref, "A");
    EXPECT_EQ(variant.alts, (std::vector<std::string>{"G", "T"}));
    ASSERT_TRUE(reader.next(variant));
    EXPECT_EQ(variant.id, ".");
    EXPECT_TRUE(variant.alts.empty());
    ASSERT_TRUE(reader.next(variant));
    EXPECT_EQ(variant.record, 3u);
    EXPECT_EQ(variant.alts, (std::vector<std::string>{"C"}));
    EXPECT_FALSE(reader.next(variant));
  }
}

TEST(VcfReader, MalformedFilesAreClearErrors) {
  test::TempDir dir;
  test::write_text(dir / "bad.vcf", std::string(kVcfHeader) + "c1\t5\trs1\tA\tG\t.\t.\t.\tGT\t0\n" +
                                        "c1\tfive\trs2\tA\tG\t.\t.\t.\tGT\t0\n");
  io::VcfReader reader(dir / "bad.vcf");
  io::VcfVariant variant;
  ASSERT_TRUE(reader.next(variant));
  EXPECT_NE(test::error_of([&] {
              reader.next(variant);
            }).find("bad.vcf: record 2 after the header is malformed"),
            std::string::npos);
  test::write_text(dir / "table.tsv", "id\tsequence\nx\tACGT\n");
  EXPECT_NE(test::error_of([&] { io::VcfReader r(dir / "table.tsv"); }).find("is not VCF or BCF"),
            std::string::npos);
}

}  // namespace
}  // namespace genolm::variants
