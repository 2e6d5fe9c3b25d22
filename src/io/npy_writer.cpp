#include "io/npy_writer.h"

#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <string>
#include <system_error>

#include "genolm/atomic_file.h"
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

std::string system_message(const std::filesystem::path& file, const char* action) {
  return std::string("cannot ") + action + " " + file.string() + ": " + std::strerror(errno);
}

}  // namespace

NpyWriter::NpyWriter(std::filesystem::path path, std::size_t columns)
    : path_(std::move(path)), temp_path_(path_.string() + ".tmp"), columns_(columns) {
  // Room for the widest row count, so finish() rewrites the header in place without moving data.
  const std::size_t widest =
      kPreamble + shape_dict(std::numeric_limits<std::uint64_t>::max(), columns_).size() + 1;
  header_bytes_ = (widest + kAlignment - 1) / kAlignment * kAlignment;
  if (header_bytes_ - kPreamble > std::numeric_limits<std::uint16_t>::max())
    throw Error("npy header for " + path_.string() + " exceeds version 1.0's 65535 bytes");
  file_ = std::fopen(temp_path_.c_str(), "wb");
  if (file_ == nullptr) throw Error(system_message(temp_path_, "create"));
  try {
    write_header();
  } catch (...) {
    close_and_remove();  // the destructor does not run for a constructor that throws
    throw;
  }
}

NpyWriter::~NpyWriter() {
  if (!finished_) close_and_remove();
}

void NpyWriter::write_header() {
  const std::string bytes = header(rows_, columns_, header_bytes_);
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size())
    throw Error(system_message(temp_path_, "write"));
}

void NpyWriter::append(const float* rows, std::size_t row_count) {
  if (file_ == nullptr) throw Error("npy writer for " + path_.string() + " is already finished");
  const std::size_t count = row_count * columns_;
  if (count > 0 && std::fwrite(rows, sizeof(float), count, file_) != count)
    throw Error(system_message(temp_path_, "write"));
  rows_ += row_count;
}

void NpyWriter::finish() {
  if (file_ == nullptr) throw Error("npy writer for " + path_.string() + " is already finished");
  if (std::fflush(file_) != 0 || std::fseek(file_, 0, SEEK_SET) != 0)
    throw Error(system_message(temp_path_, "write"));
  write_header();
  // Synced before the rename: a full disk can surface only here, and must not leave a short file.
  if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0)
    throw Error(system_message(temp_path_, "write"));
  const int closed = std::fclose(file_);
  file_ = nullptr;
  if (closed != 0) throw Error(system_message(temp_path_, "write"));
  std::error_code error;
  std::filesystem::rename(temp_path_, path_, error);
  if (error)
    throw Error("cannot rename " + temp_path_.string() + " to " + path_.string() + ": " +
                error.message());
  sync_folder(path_.has_parent_path() ? path_.parent_path() : std::filesystem::path("."));
  finished_ = true;
}

void NpyWriter::close_and_remove() {
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
  std::error_code ignored;  // a destructor must not throw; a leftover .tmp is harmless
  std::filesystem::remove(temp_path_, ignored);
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
