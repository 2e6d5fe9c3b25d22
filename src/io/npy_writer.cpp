#include "io/npy_writer.h"

#include <bit>
#include <limits>
#include <string>

#include "genolm/error.h"

namespace genolm::io {
namespace {

// The data are written as the machine holds them, which is '<f4' only on little-endian hosts.
static_assert(std::endian::native == std::endian::little, "NpyWriter assumes a little-endian host");

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kPreamble = 10;   // magic (6), version (2), header length (2)
constexpr std::size_t kAlignment = 64;  // NumPy aligns the data start to 64 bytes

std::string shape_dict(std::uint64_t rows, std::size_t columns) {
  return "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(rows) + ", " +
         std::to_string(columns) + "), }";
}

// The whole header, padded with spaces before its closing newline to `total` bytes.
std::string header(std::uint64_t rows, std::size_t columns, std::size_t total) {
  const std::string dict = shape_dict(rows, columns);
  const std::size_t text_bytes = total - kPreamble;
  std::string out(kMagic, 6);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(text_bytes & 0xff);
  out += static_cast<char>((text_bytes >> 8) & 0xff);
  out += dict;
  out.append(text_bytes - dict.size() - 1, ' ');
  out += '\n';
  return out;
}

}  // namespace

NpyWriter::NpyWriter(std::filesystem::path path, std::size_t columns)
    : file_(std::move(path)), columns_(columns) {
  if (file_.to_standard_output()) {
    throw Error(
        ".npy output cannot go to standard output: its header, which holds the row "
        "count, is written last");
  }
  // Room for the widest row count, so finish() rewrites the header in place without moving data.
  const std::size_t widest =
      kPreamble + shape_dict(std::numeric_limits<std::uint64_t>::max(), columns_).size() + 1;
  header_bytes_ = (widest + kAlignment - 1) / kAlignment * kAlignment;
  if (header_bytes_ - kPreamble > std::numeric_limits<std::uint16_t>::max())
    throw Error("npy header for " + file_.path().string() + " exceeds version 1.0's 65535 bytes");
  file_.write(header(rows_, columns_, header_bytes_));
}

void NpyWriter::append(const float* rows, std::size_t row_count) {
  file_.write({reinterpret_cast<const char*>(rows), row_count * columns_ * sizeof(float)});
  rows_ += row_count;
}

void NpyWriter::finish() {
  file_.overwrite(0, header(rows_, columns_, header_bytes_));
  file_.finish();
}

void write_npy(const std::filesystem::path& path, const std::vector<float>& values,
               std::size_t rows, std::size_t columns) {
  if (values.size() != rows * columns)
    throw Error("npy " + path.string() + ": " + std::to_string(values.size()) + " values for " +
                std::to_string(rows) + " x " + std::to_string(columns) +
                " (expected rows x columns)");
  NpyWriter writer(path, columns);
  writer.append(values.data(), rows);
  writer.finish();
}

}  // namespace genolm::io
