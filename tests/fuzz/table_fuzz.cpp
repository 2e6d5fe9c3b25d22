// Tables (CSV or TSV, plain or gzip) through TableReader, and labelled examples (tables or FASTA
// with labels in the headers) through LabelledReader, as fine-tuning, predict and embed read them.
// The first byte picks the file name (which sets the delimiter) and the columns asked for.
#include "fuzz_input.h"
#include "genolm/error.h"
#include "io/labelled.h"
#include "io/table_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  using namespace genolm;
  const char* names[] = {"input.csv", "input.tsv", "input.csv.gz", "input.txt"};
  const auto file = fuzz::write_input(names[data[0] & 3], fuzz::as_text(data + 1, size - 1));
  try {
    io::TableReader table(file);
    std::vector<std::string> row;
    while (table.next(row)) {
    }
  } catch (const Error&) {
  }
  try {
    io::LabelledSpec spec;
    if (data[0] & 4) spec.sequence_columns = {"heavy", "light"};
    if (data[0] & 8) spec.label_columns = {"y1", "y2"};
    io::LabelledReader reader(file, spec);
    io::LabelledExample example;
    while (reader.next(example)) {
    }
  } catch (const Error&) {
  }
  return 0;
}
