#include "io/safetensors.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "genolm/error.h"

namespace genolm::io {
namespace {

constexpr std::string_view kChecksumKey = "genolm_crc32";
constexpr std::string_view kMetadataKey = "__metadata__";
// The checksum entry exactly as nlohmann::json::dump writes it; its value is eight hex digits.
constexpr std::string_view kChecksumEntry = "\"genolm_crc32\":\"";
constexpr std::size_t kChecksumDigits = 8;
// Headers of real models are kilobytes; a larger claim is a damaged length, not a model.
constexpr std::uint64_t kMaxHeaderBytes = 100u << 20;
// No tensor dimension genolm builds comes near this; bounding it keeps products from wrapping.
constexpr std::int64_t kMaxDimension = std::int64_t{1} << 40;

struct DtypeInfo {
  TensorDtype dtype;
  std::string_view name;
  std::size_t size;
};

constexpr std::array<DtypeInfo, 10> kDtypes = {{{TensorDtype::f64, "F64", 8},
                                                {TensorDtype::f32, "F32", 4},
                                                {TensorDtype::f16, "F16", 2},
                                                {TensorDtype::bf16, "BF16", 2},
                                                {TensorDtype::i64, "I64", 8},
                                                {TensorDtype::i32, "I32", 4},
                                                {TensorDtype::i16, "I16", 2},
                                                {TensorDtype::i8, "I8", 1},
                                                {TensorDtype::u8, "U8", 1},
                                                {TensorDtype::boolean, "BOOL", 1}}};

const DtypeInfo& info(TensorDtype dtype) {
  return *std::find_if(kDtypes.begin(), kDtypes.end(),
                       [dtype](const DtypeInfo& d) { return d.dtype == dtype; });
}

// The shape's byte count, or an error when a dimension is negative or the product overflows.
std::uint64_t byte_count(const std::vector<std::int64_t>& shape, std::size_t element_size,
                         const std::string& where) {
  std::uint64_t bytes = element_size;
  for (const auto dimension : shape) {
    if (dimension < 0 || dimension > kMaxDimension) {
      throw Error(where + " has dimension " + std::to_string(dimension) + " (expected 0 to 2^40)");
    }
    if (dimension != 0 &&
        bytes > std::numeric_limits<std::uint64_t>::max() / static_cast<std::uint64_t>(dimension)) {
      throw Error(where + " has a shape too large to address");
    }
    bytes *= static_cast<std::uint64_t>(dimension);
  }
  return bytes;
}

std::uint32_t crc_of(std::string_view bytes, uLong crc = crc32(0L, Z_NULL, 0)) {
  return static_cast<std::uint32_t>(
      crc32_z(crc, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

// CRC-32 of the file as if its checksum digits (at `digits_at`) were "00000000".
std::uint32_t file_checksum(std::string_view file, std::size_t digits_at) {
  static constexpr std::string_view kZeros = "00000000";
  auto crc = crc_of(file.substr(0, digits_at));
  crc = crc_of(kZeros, crc);
  return crc_of(file.substr(digits_at + kChecksumDigits), crc);
}

std::string hex8(std::uint32_t value) {
  char text[kChecksumDigits + 1];
  std::snprintf(text, sizeof text, "%08x", value);
  return text;
}

TensorDtype parse_dtype(const nlohmann::json& value, const std::string& where) {
  if (value.is_string()) {
    for (const auto& d : kDtypes) {
      if (d.name == value.get_ref<const std::string&>()) return d.dtype;
    }
  }
  throw Error(where + " has dtype " + value.dump() +
              " (expected F64, F32, F16, BF16, I64, I32, I16, I8, U8 or BOOL)");
}

std::vector<std::int64_t> parse_shape(const nlohmann::json& value, const std::string& where) {
  if (!value.is_array()) throw Error(where + " has no shape array");
  std::vector<std::int64_t> shape;
  for (const auto& dimension : value) {
    if (!dimension.is_number_integer()) {
      throw Error(where + " has shape " + value.dump() + " (expected whole numbers)");
    }
    shape.push_back(
        dimension.is_number_unsigned()
            ? static_cast<std::int64_t>(std::min<std::uint64_t>(
                  dimension.get<std::uint64_t>(), std::numeric_limits<std::int64_t>::max()))
            : dimension.get<std::int64_t>());
  }
  return shape;
}

struct Range {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

Range parse_range(const nlohmann::json& value, const std::string& where) {
  if (!value.is_array() || value.size() != 2 || !value[0].is_number_unsigned() ||
      !value[1].is_number_unsigned()) {
    throw Error(where + " has data_offsets " + value.dump() + " (expected [begin, end])");
  }
  const Range range{value[0].get<std::uint64_t>(), value[1].get<std::uint64_t>()};
  if (range.end < range.begin) throw Error(where + " ends before it begins");
  return range;
}

}  // namespace

std::string_view dtype_name(TensorDtype dtype) {
  return info(dtype).name;
}
std::size_t dtype_size(TensorDtype dtype) {
  return info(dtype).size;
}

const StoredTensor* SafetensorsFile::find(std::string_view name) const {
  const auto found = std::find_if(tensors_.begin(), tensors_.end(),
                                  [name](const StoredTensor& t) { return t.name == name; });
  return found == tensors_.end() ? nullptr : &*found;
}

SafetensorsFile SafetensorsFile::parse(std::string contents, const std::string& origin,
                                       bool require_checksum) {
  SafetensorsFile file;
  file.contents_ = std::make_unique<const std::string>(std::move(contents));
  file.origin_ = origin;
  const std::string_view all = *file.contents_;
  const std::string damaged = origin + " is not a valid safetensors file: ";

  std::uint64_t header_size = 0;
  if (all.size() < sizeof header_size) {
    throw Error(damaged + "it has " + std::to_string(all.size()) +
                " bytes, fewer than the 8 of a safetensors header length");
  }
  std::memcpy(&header_size, all.data(), sizeof header_size);  // little-endian, as on x86 and ARM
  if (header_size > kMaxHeaderBytes || header_size > all.size() - sizeof header_size) {
    throw Error(damaged + "its header claims " + std::to_string(header_size) +
                " bytes but the file has " + std::to_string(all.size()) +
                " (truncated or damaged)");
  }
  const std::string_view header = all.substr(sizeof header_size, header_size);
  const std::string_view data = all.substr(sizeof header_size + header_size);

  const auto json = nlohmann::json::parse(header, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    throw Error(damaged + "its header is not a JSON object (truncated or damaged)");
  }

  std::vector<std::pair<Range, std::size_t>> ranges;  // each tensor's bytes, by index
  for (const auto& [name, entry] : json.items()) {
    const std::string where = damaged + "tensor '" + name + "'";
    if (name == kMetadataKey) {
      if (!entry.is_object()) throw Error(damaged + "__metadata__ is not an object");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) {
          throw Error(damaged + "metadata '" + key + "' is not a string");
        }
        file.metadata_[key] = value.get<std::string>();
      }
      continue;
    }
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets")) {
      throw Error(where + " lacks dtype, shape or data_offsets");
    }
    StoredTensor tensor;
    tensor.name = name;
    tensor.dtype = parse_dtype(entry["dtype"], where);
    tensor.shape = parse_shape(entry["shape"], where);
    const Range range = parse_range(entry["data_offsets"], where);
    if (range.end > data.size()) {
      throw Error(where + " runs to byte " + std::to_string(range.end) + " of a data section of " +
                  std::to_string(data.size()) + " (truncated or damaged)");
    }
    const auto expected = byte_count(tensor.shape, dtype_size(tensor.dtype), where);
    if (range.end - range.begin != expected) {
      throw Error(where + " holds " + std::to_string(range.end - range.begin) +
                  " bytes, but its dtype and shape make " + std::to_string(expected));
    }
    tensor.bytes = data.substr(range.begin, range.end - range.begin);
    ranges.emplace_back(range, file.tensors_.size());
    file.tensors_.push_back(std::move(tensor));
  }

  // The ranges must tile the data section: no byte read twice, none left unaccounted for.
  std::sort(ranges.begin(), ranges.end(),
            [](const auto& a, const auto& b) { return a.first.begin < b.first.begin; });
  std::uint64_t covered = 0;
  for (const auto& [range, index] : ranges) {
    if (range.begin != covered) {
      throw Error(damaged + "tensor '" + file.tensors_[index].name + "' starts at byte " +
                  std::to_string(range.begin) + " of the data section, expected " +
                  std::to_string(covered) + " (tensors overlap or leave a gap)");
    }
    covered = range.end;
  }
  if (covered != data.size()) {
    throw Error(damaged + "its tensors cover " + std::to_string(covered) + " of the " +
                std::to_string(data.size()) + " data bytes");
  }
  // In file order, which is how they were written.
  std::vector<StoredTensor> ordered;
  for (const auto& [range, index] : ranges)
    ordered.push_back(std::move(file.tensors_[index]));
  file.tensors_ = std::move(ordered);

  const auto saved = file.metadata_.find(std::string(kChecksumKey));
  if (saved == file.metadata_.end()) {
    if (require_checksum) {
      throw Error(damaged + "it has no genolm_crc32 checksum (genolm writes one in every file)");
    }
    return file;
  }
  const auto at = header.find(kChecksumEntry);
  if (at == std::string_view::npos ||
      header.find(kChecksumEntry, at + 1) != std::string_view::npos ||
      saved->second.size() != kChecksumDigits) {
    throw Error(damaged + "its genolm_crc32 checksum is malformed");
  }
  const std::size_t digits_at = sizeof header_size + at + kChecksumEntry.size();
  if (hex8(file_checksum(all, digits_at)) != saved->second) {
    throw Error(origin + " is damaged: its bytes do not match the checksum saved with them");
  }
  return file;
}

SafetensorsFile SafetensorsFile::read(const std::filesystem::path& file, bool require_checksum) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot open " + file.string() + ": " + std::strerror(errno));
  std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error("cannot read " + file.string() + ": " + std::strerror(errno));
  return parse(std::move(contents), file.string(), require_checksum);
}

std::string encode_safetensors(const std::vector<TensorToStore>& tensors,
                               const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  nlohmann::json meta(metadata);
  meta[std::string(kChecksumKey)] = std::string(kChecksumDigits, '0');
  header[std::string(kMetadataKey)] = std::move(meta);
  std::uint64_t offset = 0;
  for (const auto& tensor : tensors) {
    const std::string where = "tensor '" + tensor.name + "'";
    if (tensor.name == kMetadataKey || header.contains(tensor.name)) {
      throw Error("cannot save " + where + ": the name is used twice or reserved");
    }
    if (tensor.bytes.size() != byte_count(tensor.shape, dtype_size(tensor.dtype), where)) {
      throw Error("cannot save " + where + ": its bytes do not match its shape");
    }
    header[tensor.name] = {{"dtype", std::string(dtype_name(tensor.dtype))},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, offset + tensor.bytes.size()}}};
    offset += tensor.bytes.size();
  }
  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');  // the data starts 8-byte aligned

  std::string file(sizeof(std::uint64_t), '\0');
  const std::uint64_t header_size = header_text.size();
  std::memcpy(file.data(), &header_size, sizeof header_size);
  file += header_text;
  file.reserve(file.size() + offset);
  for (const auto& tensor : tensors)
    file += tensor.bytes;

  const std::size_t digits_at =
      sizeof header_size + header_text.find(kChecksumEntry) + kChecksumEntry.size();
  file.replace(digits_at, kChecksumDigits, hex8(file_checksum(file, digits_at)));
  return file;
}

}  // namespace genolm::io
