#pragma once
// The safetensors container (https://github.com/huggingface/safetensors: an 8-byte little-endian
// header length, a JSON header naming each tensor's dtype, shape and byte range, then the raw
// bytes), which is how genolm stores weights and checkpoints. Unlike a TorchScript archive it is
// data only: loading one runs no code, and every number in the header is checked against the file
// before a byte is trusted.
//
// genolm adds one metadata entry, `genolm_crc32`: the CRC-32 of the whole file with that entry's
// eight hex digits read as zeros, so a flipped byte anywhere (header, counters or tensor bytes) is
// an error naming the file. This file knows nothing of LibTorch; train/tensor_file.h maps tensors.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace genolm::io {

// The dtypes genolm reads and writes, under their safetensors names.
enum class TensorDtype { f64, f32, f16, bf16, i64, i32, i16, i8, u8, boolean };

std::string_view dtype_name(TensorDtype dtype);  // "F32", "BF16", ...
std::size_t dtype_size(TensorDtype dtype);       // bytes per element

struct StoredTensor {
  std::string name;
  TensorDtype dtype = TensorDtype::f32;
  std::vector<std::int64_t> shape;
  std::string_view bytes;  // into the contents that hold it
};

// A parsed, validated file. The tensors' bytes point into `contents`, which this object owns.
class SafetensorsFile {
 public:
  // Parses and validates `contents`, read from `origin` (named in every error). With
  // `require_checksum`, a file without genolm's checksum is an error; a wrong checksum always is.
  // Throws genolm::Error saying what is wrong: the header length, JSON, a dtype, a shape whose
  // bytes do not match its range, ranges that overlap, leave gaps or run past the file.
  static SafetensorsFile parse(std::string contents, const std::string& origin,
                               bool require_checksum);
  // Reads `file` whole, then parses it as above.
  static SafetensorsFile read(const std::filesystem::path& file, bool require_checksum);

  SafetensorsFile(SafetensorsFile&&) noexcept = default;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept = default;

  const std::vector<StoredTensor>& tensors() const { return tensors_; }  // in file order
  const StoredTensor* find(std::string_view name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& origin() const { return origin_; }

 private:
  SafetensorsFile() = default;

  // On the heap, so the tensors' views stay valid when the object moves.
  std::unique_ptr<const std::string> contents_;
  std::string origin_;
  std::vector<StoredTensor> tensors_;
  std::map<std::string, std::string> metadata_;
};

// One tensor to write: its bytes must be shape's product times the dtype's size, little-endian.
struct TensorToStore {
  std::string name;
  TensorDtype dtype = TensorDtype::f32;
  std::vector<std::int64_t> shape;
  std::string_view bytes;
};

// The file's bytes, with genolm's checksum added to `metadata`. Throws genolm::Error on a name
// used twice or bytes that do not match a shape.
std::string encode_safetensors(const std::vector<TensorToStore>& tensors,
                               const std::map<std::string, std::string>& metadata);

}  // namespace genolm::io
