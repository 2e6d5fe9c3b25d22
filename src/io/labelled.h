#pragma once
// Labelled examples for fine-tuning and evaluation, from a CSV/TSV table (columns chosen by name)
// or from FASTA or FASTQ whose headers carry the labels as key=value fields (">seq7 label=1").

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "io/fastx_reader.h"
#include "util/progress_log.h"

namespace genolm::io {

struct LabelledSpec {
  // One column, or two for paired chains (antibody heavy and light). FASTA has one sequence.
  std::vector<std::string> sequence_columns = {"sequence"};
  // Columns (or FASTA header keys) holding the labels; several for multi-target regression.
  std::vector<std::string> label_columns = {"label"};
  // Column with record ids; when a table lacks it, ids are the 1-based row numbers.
  std::string id_column = "id";
  // The letters a FASTA or FASTQ record may hold: DNA for a DNA model, so that a protein fed to
  // it is an error at its line, not a confident prediction. Tables leave it to the tokenizer.
  Alphabet fastx_alphabet = Alphabet::protein;
};

struct LabelledExample {
  std::string id;
  std::vector<std::string> sequences;  // one per sequence column
  std::vector<std::string> labels;     // one per label column, as written in the file
  std::uint64_t line = 0;              // where the example is, for error messages
};

// Examples one at a time, so a file larger than memory streams (embedding whole genomes' worth of
// records). FASTA and FASTQ are recognised by content ('>' or '@' first), anything else is a
// table. Throws
// genolm::Error naming the file, line and column or key on a missing column, a missing label or
// an empty sequence. With no label columns, labels are not read at all (prediction, embedding).
class LabelledReader {
 public:
  LabelledReader(const std::filesystem::path& path, LabelledSpec spec);
  ~LabelledReader();
  LabelledReader(const LabelledReader&) = delete;
  LabelledReader& operator=(const LabelledReader&) = delete;

  // The next example; false at the end of the file.
  bool next(LabelledExample& example);

  class Source;  // one per file kind, in labelled.cpp

 private:
  std::unique_ptr<Source> source_;
  // A large file says how far it is read (predict, embed, score, fine-tuning data).
  ProgressLog progress_;
  std::uint64_t records_ = 0;
};

// FASTA ('>') or FASTQ ('@') first, whitespace aside: a table's header row starts with a column
// name. Peeks, so standard input can still be read after it.
bool starts_like_fastx(const std::filesystem::path& path);

// Every example of the file; throws genolm::Error as LabelledReader does, and for a file that
// holds none.
std::vector<LabelledExample> read_labelled(const std::filesystem::path& path,
                                           const LabelledSpec& spec);

// Parses "key=value" words of a FASTA description ("label=1 split=train").
std::vector<std::pair<std::string, std::string>> header_fields(std::string_view description);

}  // namespace genolm::io
