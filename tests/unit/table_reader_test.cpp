#include "io/table_reader.h"

#include <gtest/gtest.h>

#include "genolm/error.h"
#include "support/test_files.h"

namespace genolm::io {
namespace {

std::vector<std::vector<std::string>> rows_of(TableReader& table) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  while (table.next(row))
    rows.push_back(row);
  return rows;
}

TEST(TableReader, CsvWithQuotedFields) {
  test::TempDir dir;
  test::write_text(dir / "t.csv",
                   "id,sequence,label\n"
                   "s1,ACGT,1\n"
                   "\"s,2\",\"AC\"\"GT\",0\n"
                   "s3,\"ACGT\nTT\",1\n");
  TableReader table(dir / "t.csv");
  EXPECT_EQ(table.delimiter(), ',');
  EXPECT_EQ(table.column("label"), 2u);
  const auto rows = rows_of(table);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1][0], "s,2");
  EXPECT_EQ(rows[1][1], "AC\"GT");
  EXPECT_EQ(rows[2][1], "ACGT\nTT");
}

TEST(TableReader, TsvByNameOrByHeaderAndCrlf) {
  test::TempDir dir;
  const std::string text = "id\tsequence\tlabel\r\na\tAC GT\t1\r\nb\tGG\t0\r\n";
  test::write_text(dir / "t.tsv", text);
  test::write_text(dir / "t.txt", text);
  test::write_gzip(dir / "t.tsv.gz", text);
  for (const char* name : {"t.tsv", "t.txt", "t.tsv.gz"}) {
    TableReader table(dir / name);
    EXPECT_EQ(table.delimiter(), '\t') << name;
    const auto rows = rows_of(table);
    ASSERT_EQ(rows.size(), 2u) << name;
    EXPECT_EQ(rows[0][1], "AC GT") << name;
    EXPECT_EQ(rows[1][2], "0") << name;
  }
}

// Spreadsheet programs start a UTF-8 CSV with a byte-order mark; it once became part of the first
// column's name ("\ufeffid"), so ids silently turned into row numbers.
TEST(TableReader, AByteOrderMarkIsNotPartOfTheFirstColumnsName) {
  test::TempDir dir;
  const std::string text = "\xEF\xBB\xBFid,sequence\nr1,ACGT\n";
  test::write_text(dir / "bom.csv", text);
  test::write_gzip(dir / "bom.csv.gz", text);
  for (const char* name : {"bom.csv", "bom.csv.gz"}) {
    TableReader table(dir / name);
    EXPECT_TRUE(table.has_column("id")) << name;
    EXPECT_EQ(table.column("id"), 0u) << name;
    const auto rows = rows_of(table);
    ASSERT_EQ(rows.size(), 1u) << name;
    EXPECT_EQ(rows[0][0], "r1") << name;
  }
}

TEST(TableReader, MissingColumnListsTheColumns) {
  test::TempDir dir;
  test::write_text(dir / "t.csv", "id,seq\na,AC\n");
  TableReader table(dir / "t.csv");
  try {
    table.column("label");
    FAIL() << "a missing column was found";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("t.csv: no column 'label' (the header has: id, seq)"),
              std::string::npos)
        << e.what();
  }
}

TEST(TableReader, RowWithWrongFieldCountNamesItsLine) {
  test::TempDir dir;
  test::write_text(dir / "t.csv", "id,seq,label\na,AC,1\nb,GG\n");
  TableReader table(dir / "t.csv");
  std::vector<std::string> row;
  ASSERT_TRUE(table.next(row));
  try {
    table.next(row);
    FAIL() << "a short row was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("t.csv line 3: 2 fields, expected 3"), std::string::npos)
        << e.what();
  }
}

TEST(TableReader, UnclosedQuoteIsAnError) {
  test::TempDir dir;
  test::write_text(dir / "t.csv", "id,seq\na,\"ACGT\n");
  TableReader table(dir / "t.csv");
  std::vector<std::string> row;
  EXPECT_THROW(table.next(row), Error);
}

TEST(TableReader, EmptyAndBinaryFilesAreErrors) {
  test::TempDir dir;
  test::write_text(dir / "empty.csv", "");
  EXPECT_THROW(TableReader(dir / "empty.csv"), Error);
  test::write_text(dir / "blob.csv", std::string("\x00\x01\x02\x03", 4));
  try {
    TableReader table(dir / "blob.csv");
    FAIL() << "a binary file was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("binary"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace genolm::io
