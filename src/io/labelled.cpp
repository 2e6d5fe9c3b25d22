#include "io/labelled.h"

#include <algorithm>

#include "genolm/error.h"
#include "io/fastx_reader.h"
#include "io/input_file.h"
#include "io/table_reader.h"

namespace genolm::io {

bool starts_like_fastx(const std::filesystem::path& path) {
  InputFile file(path);
  for (const char c : file.peek(4096)) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '>' || c == '@';
  }
  return false;
}

// One implementation per file kind behind the reader; both fill an example in place.
class LabelledReader::Source {
 public:
  virtual ~Source() = default;
  virtual bool next(LabelledExample& example) = 0;
  virtual double fraction_read() const = 0;
};

namespace {

class FastxSource final : public LabelledReader::Source {
 public:
  FastxSource(const std::filesystem::path& path, LabelledSpec spec)
      : path_(path), spec_(std::move(spec)), reader_(path, {.alphabet = spec_.fastx_alphabet}) {
    if (spec_.sequence_columns.size() != 1) {
      throw Error(path.string() + ": FASTA and FASTQ hold one sequence per record, but " +
                  std::to_string(spec_.sequence_columns.size()) +
                  " sequence columns were asked for (use a table for paired chains)");
    }
  }

  bool next(LabelledExample& example) override {
    if (!read_record(reader_, record_)) return false;
    const std::string where = path_.string() + " line " + std::to_string(record_.header_line);
    example.id = record_.id;
    example.line = record_.header_line;
    if (record_.sequence.empty()) {
      throw Error(where + ": record '" + record_.id + "' has an empty sequence");
    }
    example.sequences.assign(1, std::move(record_.sequence));
    example.labels.clear();
    if (spec_.label_columns.empty()) return true;
    const auto fields = header_fields(record_.description);
    for (const auto& key : spec_.label_columns) {
      auto found = std::find_if(fields.begin(), fields.end(),
                                [&](const auto& field) { return field.first == key; });
      if (found == fields.end()) {
        throw Error(where + ": record '" + record_.id + "' has no '" + key +
                    "=' field in its header");
      }
      example.labels.push_back(found->second);
    }
    return true;
  }

  double fraction_read() const override { return reader_.fraction_read(); }

 private:
  std::filesystem::path path_;
  LabelledSpec spec_;
  FastxReader reader_;
  SequenceRecord record_;
};

class TableSource final : public LabelledReader::Source {
 public:
  TableSource(const std::filesystem::path& path, LabelledSpec spec)
      : spec_(std::move(spec)), table_(path) {
    for (const auto& name : spec_.sequence_columns)
      sequence_index_.push_back(table_.column(name));
    for (const auto& name : spec_.label_columns)
      label_index_.push_back(table_.column(name));
    has_id_ = !spec_.id_column.empty() && table_.has_column(spec_.id_column);
    id_index_ = has_id_ ? table_.column(spec_.id_column) : 0;
  }

  bool next(LabelledExample& example) override {
    if (!table_.next(row_)) return false;
    const std::string where = table_.path().string() + " line " + std::to_string(table_.line());
    example.line = table_.line();
    example.id = has_id_ ? row_[id_index_] : std::to_string(table_.row_number());
    example.sequences.clear();
    example.labels.clear();
    for (std::size_t i = 0; i < sequence_index_.size(); ++i) {
      std::string& sequence = row_[sequence_index_[i]];
      if (sequence.empty()) {
        throw Error(where + ": empty sequence in column '" + spec_.sequence_columns[i] + "'");
      }
      example.sequences.push_back(std::move(sequence));
    }
    for (std::size_t i = 0; i < label_index_.size(); ++i) {
      std::string& label = row_[label_index_[i]];
      if (label.empty()) {
        throw Error(where + ": empty label in column '" + spec_.label_columns[i] + "'");
      }
      example.labels.push_back(std::move(label));
    }
    return true;
  }

  double fraction_read() const override { return table_.fraction_read(); }

 private:
  LabelledSpec spec_;
  TableReader table_;
  std::vector<std::size_t> sequence_index_, label_index_;
  bool has_id_ = false;
  std::size_t id_index_ = 0;
  std::vector<std::string> row_;
};

}  // namespace

LabelledReader::LabelledReader(const std::filesystem::path& path, LabelledSpec spec)
    : progress_("input", "records read", path.filename().string()) {
  if (spec.sequence_columns.empty() || spec.sequence_columns.size() > 2) {
    throw Error(path.string() + ": expected one or two sequence columns, got " +
                std::to_string(spec.sequence_columns.size()));
  }
  if (starts_like_fastx(path))
    source_ = std::make_unique<FastxSource>(path, std::move(spec));
  else
    source_ = std::make_unique<TableSource>(path, std::move(spec));
}

LabelledReader::~LabelledReader() = default;

bool LabelledReader::next(LabelledExample& example) {
  if (!source_->next(example)) return false;
  ++records_;
  progress_.update(records_, source_->fraction_read());
  return true;
}

std::vector<std::pair<std::string, std::string>> header_fields(std::string_view description) {
  std::vector<std::pair<std::string, std::string>> fields;
  std::size_t pos = 0;
  while (pos < description.size()) {
    const std::size_t start = description.find_first_not_of(" \t", pos);
    if (start == std::string_view::npos) break;
    std::size_t end = description.find_first_of(" \t", start);
    if (end == std::string_view::npos) end = description.size();
    const std::string_view word = description.substr(start, end - start);
    const std::size_t equals = word.find('=');
    if (equals != std::string_view::npos && equals > 0) {
      fields.emplace_back(std::string(word.substr(0, equals)),
                          std::string(word.substr(equals + 1)));
    }
    pos = end;
  }
  return fields;
}

std::vector<LabelledExample> read_labelled(const std::filesystem::path& path,
                                           const LabelledSpec& spec) {
  LabelledReader reader(path, spec);
  std::vector<LabelledExample> examples;
  LabelledExample example;
  while (reader.next(example))
    examples.push_back(example);
  if (examples.empty()) throw Error(path.string() + ": holds no examples");
  return examples;
}

}  // namespace genolm::io
