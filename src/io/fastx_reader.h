#pragma once
// Streaming FASTA and FASTQ reader, plain or gzip. A record's sequence comes out in chunks of at
// most `chunk_bases` (plus at most `n_run_split` when a short N run is flushed), so memory is
// bounded by the chunk, not by the record or the file: a whole human chromosome streams through a
// megabyte. Lines may have any width and CRLF ends; headers and bases are checked as they stream,
// and an error names the file, the line and the record.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "io/input_file.h"

namespace genolm::io {

enum class Alphabet {
  dna,      // A C G T U N and the IUPAC ambiguity codes R Y K M S W B D H V, either case
  protein,  // letters A-Z and '*' (stop), either case
};

enum class SoftMask {
  keep,   // lowercase (soft-masked repeats) stays lowercase
  upper,  // everything is upper-cased
};

struct FastxOptions {
  Alphabet alphabet = Alphabet::dna;
  SoftMask soft_mask = SoftMask::keep;
  // DNA only: a run of at least this many N splits the record into segments and is dropped;
  // shorter runs stay in the sequence (tokenizers read N as unknown). 0 keeps every N.
  std::size_t n_run_split = 0;
  std::size_t chunk_bases = std::size_t{1} << 20;
};

// One piece of one record. `segment` counts the pieces left after splitting at N runs.
struct SequenceChunk {
  std::string id;                 // header up to the first whitespace
  std::string description;        // rest of the header
  std::uint64_t record = 0;       // 0-based record number in the file
  std::uint64_t header_line = 0;  // 1-based line of the record's header
  std::uint64_t segment = 0;
  std::uint64_t offset = 0;  // position of bases[0] in the record, counting dropped N runs
  std::string bases;
  std::string quality;  // FASTQ only: one character per base
  bool segment_start = false;
  bool segment_end = false;
  bool record_end = false;
};

enum class FastxFormat { fasta, fastq };

struct FastxStats {
  std::uint64_t records = 0;
  std::uint64_t bases = 0;          // bases handed out
  std::uint64_t dropped_n = 0;      // N bases removed by n_run_split
  std::uint64_t empty_records = 0;  // records with no sequence at all
};

class FastxReader {
 public:
  // Opens and sniffs the file; throws genolm::Error for a missing, empty or binary file, or one
  // that starts with neither '>' (FASTA) nor '@' (FASTQ).
  FastxReader(const std::filesystem::path& path, FastxOptions options = {});
  ~FastxReader();
  FastxReader(FastxReader&&) noexcept;
  FastxReader& operator=(FastxReader&&) noexcept;

  // Fills `chunk` with the next piece; returns false at the end of the file. Every record yields at
  // least one chunk (an empty record yields one with no bases and record_end set).
  bool next(SequenceChunk& chunk);

  FastxFormat format() const;
  const FastxStats& stats() const;
  const std::filesystem::path& path() const;
  double fraction_read() const;  // InputFile::fraction_read

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// A whole record, for files of short sequences (reads, proteins, task tables in FASTA).
struct SequenceRecord {
  std::string id;
  std::string description;
  std::string sequence;
  std::string quality;
  std::uint64_t header_line = 0;
};

// Reads the next whole record from `reader` (whose options should not split at N runs); returns
// false at the end of the file.
bool read_record(FastxReader& reader, SequenceRecord& record);

}  // namespace genolm::io
