#pragma once
// Streaming float32 matrices to NumPy's .npy format (version 1.0, little-endian '<f4', C order)
// when the number of rows is known only at the end, as when embedding a FASTA file of unknown
// length. The header reserves room for any row count; finish() fills in the real one and renames
// the temporary file onto the target (io::StreamedFile), so a reader sees the whole array or no
// file at all.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "io/streamed_file.h"

namespace genolm::io {

class NpyWriter {
 public:
  // Opens `path` + ".tmp" for writing; throws genolm::Error naming it when it cannot. Without
  // finish(), the temporary file is removed: an interrupted run leaves no half array.
  NpyWriter(std::filesystem::path path, std::size_t columns);
  NpyWriter(const NpyWriter&) = delete;
  NpyWriter& operator=(const NpyWriter&) = delete;

  // Appends `row_count` rows of `columns` floats each, row-major.
  void append(const float* rows, std::size_t row_count);
  // Writes the real shape into the header, flushes, closes and renames onto the target path.
  // Throws genolm::Error on a write failure, or when called twice (or after a failure).
  void finish();

  std::uint64_t rows() const { return rows_; }
  std::size_t columns() const { return columns_; }

 private:
  StreamedFile file_;
  std::size_t columns_;
  std::uint64_t rows_ = 0;
  std::size_t header_bytes_ = 0;  // magic, version, length and dict: fixed at construction
};

// Writes `values`, row-major [rows x columns], to `path` in one go (through NpyWriter). Throws
// genolm::Error when values.size() != rows * columns or the file cannot be written.
void write_npy(const std::filesystem::path& path, const std::vector<float>& values,
               std::size_t rows, std::size_t columns);

}  // namespace genolm::io
