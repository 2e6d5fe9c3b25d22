#pragma once
// CSV and TSV tables with a header row, plain or gzip, read row by row. Fields may be quoted
// (RFC 4180: embedded delimiters, doubled quotes, line breaks). Parsing is libcsv's; this class
// adds the header, column lookup by name, and errors that name the file, the line and the column.

#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace genolm::io {

// Whether a file's name says it is a table (.csv, .tsv, .tab, each also .gz): how inputs that may
// be tables or FASTA/FASTQ are told apart.
bool named_like_table(const std::filesystem::path& path);

class TableReader {
 public:
  // `delimiter` 0 picks by name (.tsv/.tab: tab, .csv: comma, each also with .gz), else by the
  // header line (tab if it has one, else comma).
  explicit TableReader(const std::filesystem::path& path, char delimiter = 0);
  ~TableReader();
  TableReader(const TableReader&) = delete;
  TableReader& operator=(const TableReader&) = delete;

  const std::vector<std::string>& header() const { return header_; }
  // Index of the column called `name`; throws an error listing the columns there are.
  std::size_t column(std::string_view name) const;
  bool has_column(std::string_view name) const;

  // The next data row; false at the end. Every row has as many fields as the header.
  bool next(std::vector<std::string>& row);
  // 1-based line on which the last row returned by next() ended.
  std::uint64_t line() const { return row_line_; }
  // 1-based number of that row among the data rows.
  std::uint64_t row_number() const { return row_number_; }
  const std::filesystem::path& path() const;
  double fraction_read() const;  // InputFile::fraction_read
  char delimiter() const { return delimiter_; }

 private:
  struct Parsed {
    std::vector<std::string> fields;
    std::uint64_t line;
  };
  bool fill();  // parses more input until a row is ready; false at the end
  static void on_field(void* data, std::size_t size, void* self);
  static void on_row(int terminator, void* self);

  class Source;
  std::unique_ptr<Source> source_;
  char delimiter_;
  // struct csv_parser, owned from the first line of the constructor: one that throws frees it too.
  std::unique_ptr<void, void (*)(void*)> parser_;
  std::vector<std::string> header_;
  std::vector<std::string> fields_;
  std::deque<Parsed> ready_;
  std::string pending_line_;
  std::uint64_t line_ = 0;
  std::uint64_t row_line_ = 0;
  std::uint64_t row_number_ = 0;
  bool finished_ = false;
};

}  // namespace genolm::io
