#include "io/labelled.h"

#include <gtest/gtest.h>

#include "genolm/error.h"
#include "support/test_files.h"

namespace genolm::io {
namespace {

TEST(Labelled, TableWithChosenColumns) {
  test::TempDir dir;
  test::write_text(dir / "ab.tsv", "name\theavy\tlight\tbinds\ttm\nab1\tEVQL\tDIQM\t1\t70.5\n");
  const auto examples = read_labelled(dir / "ab.tsv", {.sequence_columns = {"heavy", "light"},
                                                       .label_columns = {"binds", "tm"},
                                                       .id_column = "name"});
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_EQ(examples[0].id, "ab1");
  EXPECT_EQ(examples[0].sequences, (std::vector<std::string>{"EVQL", "DIQM"}));
  EXPECT_EQ(examples[0].labels, (std::vector<std::string>{"1", "70.5"}));
}

TEST(Labelled, TableWithoutIdColumnNumbersRows) {
  test::TempDir dir;
  test::write_text(dir / "t.csv", "sequence,label\nACGT,EI\nGGCC,N\n");
  const auto examples = read_labelled(dir / "t.csv", {});
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[1].id, "2");
  EXPECT_EQ(examples[1].labels[0], "N");
}

TEST(Labelled, FastaWithLabelsInHeaders) {
  test::TempDir dir;
  test::write_text(dir / "t.fa", ">p1 label=1 source=umarov\nACGT\nAC\n>p2 label=0\nGGGG\n");
  const auto examples = read_labelled(dir / "t.fa", {});
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].id, "p1");
  EXPECT_EQ(examples[0].sequences[0], "ACGTAC");
  EXPECT_EQ(examples[0].labels[0], "1");
  EXPECT_EQ(examples[1].labels[0], "0");
}

TEST(Labelled, FastaRecordWithoutLabelNamesTheRecord) {
  test::TempDir dir;
  test::write_text(dir / "t.fa", ">p1 label=1\nACGT\n>p2 other=3\nGGGG\n");
  try {
    read_labelled(dir / "t.fa", {});
    FAIL() << "a record without a label was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("t.fa line 3: record 'p2' has no 'label=' field"),
              std::string::npos)
        << e.what();
  }
}

TEST(Labelled, CsvWithoutTheNamedColumn) {
  test::TempDir dir;
  test::write_text(dir / "t.csv", "id,sequence\na,ACGT\n");
  try {
    read_labelled(dir / "t.csv", {});
    FAIL() << "a table without the label column was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no column 'label'"), std::string::npos) << e.what();
  }
}

TEST(Labelled, EmptySequenceIsAnError) {
  test::TempDir dir;
  test::write_text(dir / "t.csv", "sequence,label\nACGT,1\n,0\n");
  try {
    read_labelled(dir / "t.csv", {});
    FAIL() << "an empty sequence was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("t.csv line 3: empty sequence"), std::string::npos)
        << e.what();
  }
}

TEST(Labelled, HeaderFields) {
  const auto fields = header_fields("  label=1 x=  y=2=3 =4 plain");
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[0], (std::pair<std::string, std::string>{"label", "1"}));
  EXPECT_EQ(fields[1], (std::pair<std::string, std::string>{"x", ""}));
  EXPECT_EQ(fields[2], (std::pair<std::string, std::string>{"y", "2=3"}));
}

}  // namespace
}  // namespace genolm::io
