#pragma once
// Rows of float32 streamed into one [rows x columns] array file, in the format its name asks for:
// `.safetensors` (one tensor, "embeddings") or NumPy's `.npy` (anything else). Both reserve a
// header wide enough for any row count and rewrite it in place once the rows are known, so
// neither holds the array in memory; both write to `path.tmp` and rename on finish().

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

namespace genolm::io {

class RowWriter {
 public:
  virtual ~RowWriter() = default;
  // Appends `row_count` rows of `columns` floats each, row-major.
  virtual void append(const float* rows, std::size_t row_count) = 0;
  // Writes the real shape into the header, then syncs and renames onto the target path.
  virtual void finish() = 0;
  virtual std::uint64_t rows() const = 0;
};

// `metadata` goes into a safetensors file's __metadata__ (what the rows are); .npy has no room.
std::unique_ptr<RowWriter> open_row_writer(const std::filesystem::path& path, std::size_t columns,
                                           const std::map<std::string, std::string>& metadata);

// The tensor name a .safetensors file of rows holds them under.
inline constexpr std::string_view kRowsTensorName = "embeddings";

}  // namespace genolm::io
