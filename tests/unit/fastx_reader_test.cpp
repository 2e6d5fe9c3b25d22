#include "io/fastx_reader.h"

#include <gtest/gtest.h>

#include "genolm/error.h"
#include "support/test_files.h"

namespace genolm::io {
namespace {

std::vector<SequenceRecord> read_all(const std::filesystem::path& file, FastxOptions options = {}) {
  FastxReader reader(file, options);
  std::vector<SequenceRecord> records;
  SequenceRecord record;
  while (read_record(reader, record))
    records.push_back(record);
  return records;
}

std::vector<SequenceChunk> chunks_of(const std::filesystem::path& file, FastxOptions options) {
  FastxReader reader(file, options);
  std::vector<SequenceChunk> chunks;
  SequenceChunk chunk;
  while (reader.next(chunk))
    chunks.push_back(chunk);
  return chunks;
}

std::string error_reading(const std::filesystem::path& file, FastxOptions options = {}) {
  try {
    read_all(file, options);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// FASTA text of `dna` wrapped at `width` characters per line.
std::string wrap(const std::string& header, const std::string& dna, std::size_t width,
                 const char* newline = "\n") {
  std::string text = ">" + header + newline;
  for (std::size_t i = 0; i < dna.size(); i += width)
    text += dna.substr(i, width) + newline;
  return text;
}

TEST(FastxReader, ReadsRecordsWithHeadersAtAnyLineWidth) {
  test::TempDir dir;
  const std::string a = test::random_dna(1000, 1);
  const std::string b = test::random_dna(77, 2);
  for (std::size_t width : {1u, 7u, 60u, 80u, 5000u}) {
    test::write_text(dir / "x.fa", wrap("chr1 first one", a, width) + wrap("chr2", b, width));
    const auto records = read_all(dir / "x.fa");
    ASSERT_EQ(records.size(), 2u) << width;
    EXPECT_EQ(records[0].id, "chr1");
    EXPECT_EQ(records[0].description, "first one");
    EXPECT_EQ(records[0].sequence, a);
    EXPECT_EQ(records[1].id, "chr2");
    EXPECT_EQ(records[1].sequence, b);
  }
}

TEST(FastxReader, GzipIsDetectedByContentNotName) {
  test::TempDir dir;
  const std::string dna = test::random_dna(100000, 3);
  const std::string text = wrap("seq", dna, 70);
  test::write_gzip(dir / "looks_plain.fa", text);
  test::write_text(dir / "looks_gzipped.fa.gz", text);
  EXPECT_EQ(read_all(dir / "looks_plain.fa")[0].sequence, dna);
  EXPECT_EQ(read_all(dir / "looks_gzipped.fa.gz")[0].sequence, dna);
  FastxReader reader(dir / "looks_plain.fa");
  SequenceChunk chunk;
  ASSERT_TRUE(reader.next(chunk));
}

TEST(FastxReader, ConcatenatedGzipMembersReadAsOneFile) {
  test::TempDir dir;
  test::write_gzip(dir / "a.gz", ">a\nACGT\n");
  test::write_gzip(dir / "b.gz", ">b\nTTTT\n");
  test::write_text(dir / "ab.fa.gz", test::read_text(dir / "a.gz") + test::read_text(dir / "b.gz"));
  const auto records = read_all(dir / "ab.fa.gz");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].sequence, "TTTT");
}

TEST(FastxReader, CrlfLineEndsAndBlankLines) {
  test::TempDir dir;
  test::write_text(dir / "crlf.fa", "\r\n>r1 desc\r\nACGT\r\nAC\r\n\r\n>r2\r\nGG\r\n");
  const auto records = read_all(dir / "crlf.fa");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].description, "desc");
  EXPECT_EQ(records[0].sequence, "ACGTAC");
  EXPECT_EQ(records[1].sequence, "GG");
}

TEST(FastxReader, SoftMaskingIsKeptOrUpperCased) {
  test::TempDir dir;
  test::write_text(dir / "masked.fa", ">r\nACGTacgtnN\n");
  EXPECT_EQ(read_all(dir / "masked.fa")[0].sequence, "ACGTacgtnN");
  EXPECT_EQ(read_all(dir / "masked.fa", {.soft_mask = SoftMask::upper})[0].sequence, "ACGTACGTNN");
}

TEST(FastxReader, IupacCodesAreSequence) {
  test::TempDir dir;
  test::write_text(dir / "iupac.fa", ">r\nACGTURYKMSWBDHVN\nrykmswbdhvn\n");
  EXPECT_EQ(read_all(dir / "iupac.fa")[0].sequence, "ACGTURYKMSWBDHVNrykmswbdhvn");
}

TEST(FastxReader, EmptyRecordsAreKept) {
  test::TempDir dir;
  test::write_text(dir / "empty.fa", ">a\n>b\nAC\n>c\n");
  FastxReader reader(dir / "empty.fa");
  std::vector<SequenceRecord> records;
  SequenceRecord record;
  while (read_record(reader, record))
    records.push_back(record);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].sequence, "");
  EXPECT_EQ(records[1].sequence, "AC");
  EXPECT_EQ(records[2].sequence, "");
  EXPECT_EQ(reader.stats().empty_records, 2u);
  EXPECT_EQ(reader.stats().records, 3u);
}

TEST(FastxReader, LongNRunsSplitRecordsIntoSegments) {
  test::TempDir dir;
  const std::string left = test::random_dna(30, 4);
  const std::string right = test::random_dna(20, 5);
  // A leading run, a short run that stays, a long run that splits, a trailing run.
  test::write_text(dir / "n.fa", wrap("chr",
                                      std::string(12, 'N') + left + "NNN" + left +
                                          std::string(10, 'n') + right + std::string(15, 'N'),
                                      13));
  const auto chunks = chunks_of(dir / "n.fa", {.n_run_split = 10});
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].bases, left + "NNN" + left);
  EXPECT_EQ(chunks[0].offset, 12u);
  EXPECT_TRUE(chunks[0].segment_start);
  EXPECT_TRUE(chunks[0].segment_end);
  EXPECT_FALSE(chunks[0].record_end);
  EXPECT_EQ(chunks[1].bases, right);
  EXPECT_EQ(chunks[1].segment, 1u);
  EXPECT_EQ(chunks[1].offset, 12u + 63u + 10u);
  EXPECT_TRUE(chunks[1].record_end);
  FastxReader reader(dir / "n.fa", {.n_run_split = 10});
  SequenceChunk chunk;
  while (reader.next(chunk)) {
  }
  EXPECT_EQ(reader.stats().dropped_n, 12u + 10u + 15u);
  // Without splitting every N stays.
  EXPECT_EQ(read_all(dir / "n.fa")[0].sequence.size(), 12u + 63u + 10u + 20u + 15u);
}

TEST(FastxReader, ChunksBoundMemoryAndReassembleTheRecord) {
  test::TempDir dir;
  const std::string dna = test::random_dna(100003, 6);
  test::write_text(dir / "big.fa", wrap("big", dna, 61));
  const auto chunks = chunks_of(dir / "big.fa", {.chunk_bases = 4096});
  std::string joined;
  std::uint64_t expected_offset = 0;
  for (const auto& chunk : chunks) {
    EXPECT_LE(chunk.bases.size(), 4096u);
    EXPECT_EQ(chunk.offset, expected_offset);
    expected_offset += chunk.bases.size();
    joined += chunk.bases;
  }
  EXPECT_EQ(joined, dna);
  EXPECT_TRUE(chunks.front().segment_start);
  EXPECT_TRUE(chunks.back().record_end);
  EXPECT_GE(chunks.size(), 100003u / 4096u);
}

TEST(FastxReader, ReadsFastqWithQualities) {
  test::TempDir dir;
  test::write_text(dir / "r.fq", "@read1 lane=1\nACGTN\n+\nIIII#\n@read2\nGG\n+read2\n!!\n");
  FastxReader reader(dir / "r.fq");
  EXPECT_EQ(reader.format(), FastxFormat::fastq);
  SequenceRecord record;
  ASSERT_TRUE(read_record(reader, record));
  EXPECT_EQ(record.id, "read1");
  EXPECT_EQ(record.sequence, "ACGTN");
  EXPECT_EQ(record.quality, "IIII#");
  ASSERT_TRUE(read_record(reader, record));
  EXPECT_EQ(record.sequence, "GG");
  EXPECT_FALSE(read_record(reader, record));
}

TEST(FastxReader, ProteinAlphabet) {
  test::TempDir dir;
  test::write_text(dir / "p.fa", ">ab heavy\nEVQLVESGGGLVQPGGSLRLSCAAS*\n");
  EXPECT_EQ(read_all(dir / "p.fa", {.alphabet = Alphabet::protein})[0].sequence,
            "EVQLVESGGGLVQPGGSLRLSCAAS*");
  // E, Q, L... are not nucleotides.
  EXPECT_NE(error_reading(dir / "p.fa").find("unexpected character 'E'"), std::string::npos);
}

// Bad input: every case names the file and says what was expected.

TEST(FastxReaderErrors, MissingFile) {
  test::TempDir dir;
  const std::string message = error_reading(dir / "absent.fa");
  EXPECT_NE(message.find("absent.fa: no such file"), std::string::npos) << message;
}

TEST(FastxReaderErrors, EmptyFile) {
  test::TempDir dir;
  test::write_text(dir / "empty.fa", "");
  EXPECT_NE(error_reading(dir / "empty.fa").find("empty.fa: empty file"), std::string::npos);
  test::write_gzip(dir / "empty.fa.gz", "");
  EXPECT_NE(error_reading(dir / "empty.fa.gz").find("empty file"), std::string::npos);
}

TEST(FastxReaderErrors, FastaWithoutHeader) {
  test::TempDir dir;
  test::write_text(dir / "headless.fa", "ACGTACGT\n>r\nAC\n");
  const std::string message = error_reading(dir / "headless.fa");
  EXPECT_NE(message.find("headless.fa line 1"), std::string::npos) << message;
  EXPECT_NE(message.find("expected a FASTA header line starting with '>'"), std::string::npos)
      << message;
}

TEST(FastxReaderErrors, FastqQualityOfWrongLength) {
  test::TempDir dir;
  test::write_text(dir / "bad.fq", "@r1\nACGT\n+\nIIII\n@r2\nACGTA\n+\nIII\n");
  const std::string message = error_reading(dir / "bad.fq");
  EXPECT_NE(message.find("bad.fq line 8 (record 'r2')"), std::string::npos) << message;
  EXPECT_NE(message.find("quality line has 3 characters, expected 5"), std::string::npos)
      << message;
}

TEST(FastxReaderErrors, FastqWithoutSeparator) {
  test::TempDir dir;
  test::write_text(dir / "bad.fq", "@r1\nACGT\nIIII\n");
  EXPECT_NE(error_reading(dir / "bad.fq").find("'+' separator"), std::string::npos);
}

TEST(FastxReaderErrors, TruncatedGzip) {
  test::TempDir dir;
  test::write_gzip(dir / "whole.fa.gz", wrap("r", test::random_dna(200000, 8), 60));
  const std::string bytes = test::read_text(dir / "whole.fa.gz");
  test::write_text(dir / "cut.fa.gz", bytes.substr(0, bytes.size() / 2));
  const std::string message = error_reading(dir / "cut.fa.gz");
  EXPECT_NE(message.find("cut.fa.gz: the gzip stream is truncated"), std::string::npos) << message;
}

TEST(FastxReaderErrors, BinaryFile) {
  test::TempDir dir;
  std::string binary(4096, '\0');
  for (std::size_t i = 0; i < binary.size(); ++i)
    binary[i] = static_cast<char>((i * 37) % 256);
  test::write_text(dir / "blob.bin", binary);
  const std::string message = error_reading(dir / "blob.bin");
  EXPECT_NE(message.find("blob.bin: looks like a binary file"), std::string::npos) << message;
}

TEST(FastxReaderErrors, BadCharacterNamesLineAndRecord) {
  test::TempDir dir;
  test::write_text(dir / "digits.fa", ">r1\nACGT\n>r2\nACGT\nAC3T\n");
  const std::string message = error_reading(dir / "digits.fa");
  EXPECT_NE(message.find("digits.fa line 5 (record 'r2')"), std::string::npos) << message;
  EXPECT_NE(message.find("unexpected character '3'"), std::string::npos) << message;
}

TEST(FastxReaderErrors, FolderInsteadOfFile) {
  test::TempDir dir;
  EXPECT_NE(error_reading(dir.path()).find("is a folder"), std::string::npos);
}

// A format sniffer peeks; the reader after it still reads from the first byte, gzip or not.
TEST(InputFile, PeekedBytesAreReadAgain) {
  test::TempDir dir;
  std::string text;
  for (int i = 0; i < 2000; ++i)
    text += ">r" + std::to_string(i) + "\nACGT\n";
  test::write_text(dir / "plain.fa", text);
  test::write_gzip(dir / "packed.fa.gz", text);
  for (const char* name : {"plain.fa", "packed.fa.gz"}) {
    InputFile file(dir / name);
    EXPECT_EQ(file.peek(5), ">r0\nA");
    EXPECT_EQ(file.peek(4096), text.substr(0, 4096));
    std::string read_back(text.size() + 10, '\0');
    std::size_t got = 0;
    while (const std::size_t n = file.read(read_back.data() + got, 1000))
      got += n;
    read_back.resize(got);
    EXPECT_EQ(read_back, text) << name;
    EXPECT_THROW(file.peek(10), Error);  // once reading has begun, a peek would lie
  }
}

}  // namespace
}  // namespace genolm::io
