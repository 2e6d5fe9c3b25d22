#include "io/labelled.h"

#include <algorithm>

#include "genolm/error.h"
#include "io/fastx_reader.h"
#include "io/input_file.h"
#include "io/table_reader.h"

namespace genolm::io {
namespace {

bool starts_like_fasta(const std::filesystem::path& path) {
  InputFile file(path);
  char head[4096];
  const std::size_t n = file.read(head, sizeof head);
  for (std::size_t i = 0; i < n; ++i) {
    if (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n') continue;
    return head[i] == '>';
  }
  return false;
}

std::vector<LabelledExample> read_labelled_fasta(const std::filesystem::path& path,
                                                 const LabelledSpec& spec) {
  if (spec.sequence_columns.size() != 1) {
    throw Error(path.string() + ": FASTA holds one sequence per record, but " +
                std::to_string(spec.sequence_columns.size()) +
                " sequence columns were asked for (use a table for paired chains)");
  }
  // Any letters pass here: DNA and protein tasks share this reader, the tokenizer judges bases.
  FastxReader reader(path, {.alphabet = Alphabet::protein});
  std::vector<LabelledExample> examples;
  SequenceRecord record;
  while (read_record(reader, record)) {
    LabelledExample example;
    example.id = record.id;
    example.line = record.header_line;
    if (record.sequence.empty()) {
      throw Error(path.string() + " line " + std::to_string(record.header_line) + ": record '" +
                  record.id + "' has an empty sequence");
    }
    example.sequences.push_back(std::move(record.sequence));
    const auto fields = header_fields(record.description);
    for (const auto& key : spec.label_columns) {
      auto found = std::find_if(fields.begin(), fields.end(),
                                [&](const auto& field) { return field.first == key; });
      if (found == fields.end()) {
        throw Error(path.string() + " line " + std::to_string(record.header_line) + ": record '" +
                    record.id + "' has no '" + key + "=' field in its header");
      }
      example.labels.push_back(found->second);
    }
    examples.push_back(std::move(example));
  }
  return examples;
}

std::vector<LabelledExample> read_labelled_table(const std::filesystem::path& path,
                                                 const LabelledSpec& spec) {
  TableReader table(path);
  std::vector<std::size_t> sequence_index;
  std::vector<std::size_t> label_index;
  for (const auto& name : spec.sequence_columns)
    sequence_index.push_back(table.column(name));
  for (const auto& name : spec.label_columns)
    label_index.push_back(table.column(name));
  const bool has_id = !spec.id_column.empty() && table.has_column(spec.id_column);
  const std::size_t id_index = has_id ? table.column(spec.id_column) : 0;

  std::vector<LabelledExample> examples;
  std::vector<std::string> row;
  while (table.next(row)) {
    LabelledExample example;
    example.line = table.line();
    example.id = has_id ? row[id_index] : std::to_string(table.row_number());
    for (std::size_t i = 0; i < sequence_index.size(); ++i) {
      std::string& sequence = row[sequence_index[i]];
      if (sequence.empty()) {
        throw Error(path.string() + " line " + std::to_string(table.line()) +
                    ": empty sequence in column '" + spec.sequence_columns[i] + "'");
      }
      example.sequences.push_back(std::move(sequence));
    }
    for (std::size_t i = 0; i < label_index.size(); ++i) {
      std::string& label = row[label_index[i]];
      if (label.empty()) {
        throw Error(path.string() + " line " + std::to_string(table.line()) +
                    ": empty label in column '" + spec.label_columns[i] + "'");
      }
      example.labels.push_back(std::move(label));
    }
    examples.push_back(std::move(example));
  }
  return examples;
}

}  // namespace

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
  if (spec.sequence_columns.empty() || spec.sequence_columns.size() > 2) {
    throw Error(path.string() + ": expected one or two sequence columns, got " +
                std::to_string(spec.sequence_columns.size()));
  }
  std::vector<LabelledExample> examples =
      starts_like_fasta(path) ? read_labelled_fasta(path, spec) : read_labelled_table(path, spec);
  if (examples.empty()) throw Error(path.string() + ": holds no examples");
  return examples;
}

}  // namespace genolm::io
