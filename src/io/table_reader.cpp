#include "io/table_reader.h"

#include <csv.h>

#include <algorithm>
#include <cstring>

#include "genolm/error.h"
#include "io/input_file.h"
#include "io/read_buffer.h"

namespace genolm::io {
namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

char delimiter_from_name(const std::filesystem::path& path) {
  std::string name = path.filename().string();
  if (ends_with(name, ".gz")) name.resize(name.size() - 3);
  if (ends_with(name, ".tsv") || ends_with(name, ".tab")) return '\t';
  if (ends_with(name, ".csv")) return ',';
  return 0;
}

// Only the space character is trimmed around fields; a tab may be the delimiter.
int is_space(unsigned char c) {
  return c == ' ' ? 1 : 0;
}

}  // namespace

bool named_like_table(const std::filesystem::path& path) {
  return delimiter_from_name(path) != 0;
}

// Line-at-a-time input, so every parsed row knows the line it ended on.
class TableReader::Source {
 public:
  explicit Source(const std::filesystem::path& path)
      : file_(path), buffer_(std::min<std::size_t>(kReadBufferBytes, 1 << 16)) {}

  bool next_line(std::string& line) {
    line.clear();
    while (true) {
      if (pos_ == end_) {
        end_ = file_.read(buffer_.data(), buffer_.size());
        pos_ = 0;
        if (end_ == 0) return !line.empty();
        if (first_block_) {
          first_block_ = false;
          if (looks_binary(std::string_view(buffer_.data(), std::min<std::size_t>(end_, 4096)))) {
            throw Error(file_.path().string() +
                        ": looks like a binary file (expected a CSV or TSV table)");
          }
        }
      }
      const char* start = buffer_.data() + pos_;
      const auto* newline = static_cast<const char*>(std::memchr(start, '\n', end_ - pos_));
      if (newline != nullptr) {
        line.append(start, newline + 1);
        pos_ += static_cast<std::size_t>(newline - start) + 1;
        return true;
      }
      line.append(start, end_ - pos_);
      pos_ = end_;
    }
  }
  const std::filesystem::path& path() const { return file_.path(); }
  double fraction_read() const { return file_.fraction_read(); }

 private:
  InputFile file_;
  std::vector<char> buffer_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  bool first_block_ = true;
};

namespace {

void free_parser(void* parser) {
  csv_free(static_cast<csv_parser*>(parser));
  delete static_cast<csv_parser*>(parser);
}

// A UTF-8 byte-order mark, which spreadsheet programs put before the first column's name.
constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

}  // namespace

TableReader::TableReader(const std::filesystem::path& path, char delimiter)
    : source_(std::make_unique<Source>(path)),
      delimiter_(delimiter),
      parser_(new csv_parser{}, free_parser) {
  auto* parser = static_cast<csv_parser*>(parser_.get());
  if (csv_init(parser, CSV_STRICT | CSV_STRICT_FINI) != 0) {
    throw Error(path.string() + ": cannot initialise the CSV parser");
  }
  csv_set_space_func(parser, is_space);

  // The header decides the delimiter when the name does not.
  if (!source_->next_line(pending_line_)) {
    throw Error(path.string() + ": empty file (expected a table with a header line)");
  }
  if (pending_line_.rfind(kByteOrderMark, 0) == 0) pending_line_.erase(0, kByteOrderMark.size());
  if (delimiter_ == 0) delimiter_ = delimiter_from_name(path);
  if (delimiter_ == 0) delimiter_ = pending_line_.find('\t') != std::string::npos ? '\t' : ',';
  csv_set_delim(parser, static_cast<unsigned char>(delimiter_));

  if (!fill()) throw Error(path.string() + ": no header line");
  header_ = std::move(ready_.front().fields);
  ready_.pop_front();
  for (std::size_t i = 0; i < header_.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (header_[i] == header_[j]) {
        throw Error(path.string() + " line 1: column '" + header_[i] + "' appears twice");
      }
    }
  }
}

TableReader::~TableReader() = default;

double TableReader::fraction_read() const {
  return source_->fraction_read();
}
const std::filesystem::path& TableReader::path() const {
  return source_->path();
}

void TableReader::on_field(void* data, std::size_t size, void* self) {
  auto& reader = *static_cast<TableReader*>(self);
  reader.fields_.emplace_back(data == nullptr ? "" : std::string(static_cast<char*>(data), size));
}

void TableReader::on_row(int /*terminator*/, void* self) {
  auto& reader = *static_cast<TableReader*>(self);
  // A trailing CR of a CRLF line is a row end to libcsv, so it never reaches a field.
  reader.ready_.push_back({std::move(reader.fields_), reader.line_});
  reader.fields_.clear();
}

bool TableReader::fill() {
  auto* parser = static_cast<csv_parser*>(parser_.get());
  while (ready_.empty() && !finished_) {
    std::string line;
    if (!pending_line_.empty()) {
      line = std::move(pending_line_);
      pending_line_.clear();
    } else if (!source_->next_line(line)) {
      if (csv_fini(parser, on_field, on_row, this) != 0) {
        throw Error(path().string() + " line " + std::to_string(line_) + ": " +
                    csv_strerror(csv_error(parser)) + " (an unclosed quote?)");
      }
      finished_ = true;
      break;
    }
    ++line_;
    if (csv_parse(parser, line.data(), line.size(), on_field, on_row, this) != line.size()) {
      throw Error(path().string() + " line " + std::to_string(line_) + ": " +
                  csv_strerror(csv_error(parser)) + " (expected quoted fields as in RFC 4180)");
    }
  }
  return !ready_.empty();
}

bool TableReader::next(std::vector<std::string>& row) {
  if (!fill()) return false;
  Parsed parsed = std::move(ready_.front());
  ready_.pop_front();
  ++row_number_;
  row_line_ = parsed.line;
  if (parsed.fields.size() != header_.size()) {
    throw Error(path().string() + " line " + std::to_string(row_line_) + ": " +
                std::to_string(parsed.fields.size()) + " fields, expected " +
                std::to_string(header_.size()) + " as in the header");
  }
  row = std::move(parsed.fields);
  return true;
}

bool TableReader::has_column(std::string_view name) const {
  for (const auto& column : header_) {
    if (column == name) return true;
  }
  return false;
}

std::size_t TableReader::column(std::string_view name) const {
  for (std::size_t i = 0; i < header_.size(); ++i) {
    if (header_[i] == name) return i;
  }
  std::string columns;
  for (const auto& column : header_)
    columns += (columns.empty() ? "" : ", ") + column;
  throw Error(path().string() + ": no column '" + std::string(name) +
              "' (the header has: " + columns + ")");
}

}  // namespace genolm::io
