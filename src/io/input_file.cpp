#include "io/input_file.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include "genolm/error.h"
#include "io/read_buffer.h"

namespace genolm::io {
namespace {

bool starts_with_gzip_magic(const std::filesystem::path& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return false;
  unsigned char magic[2] = {0, 0};
  const std::size_t n = std::fread(magic, 1, 2, file);
  std::fclose(file);
  return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

}  // namespace

InputFile::InputFile(std::filesystem::path path) : path_(std::move(path)) {
  std::error_code ec;
  const auto status = std::filesystem::status(path_, ec);
  if (ec || !std::filesystem::exists(status)) {
    throw Error(path_.string() + ": no such file");
  }
  if (std::filesystem::is_directory(status)) {
    throw Error(path_.string() + ": is a folder, expected a file");
  }
  size_on_disk_ = std::filesystem::file_size(path_, ec);
  compressed_ = starts_with_gzip_magic(path_);
  gz_ = gzopen(path_.c_str(), "rb");
  if (gz_ == nullptr) {
    throw Error(path_.string() + ": cannot open (" + std::strerror(errno) + ")");
  }
  gzbuffer(static_cast<gzFile>(gz_), static_cast<unsigned>(kReadBufferBytes));
}

InputFile::~InputFile() {
  if (gz_ != nullptr) gzclose(static_cast<gzFile>(gz_));
}

std::size_t InputFile::read(char* buffer, std::size_t capacity) {
  auto* gz = static_cast<gzFile>(gz_);
  const auto want =
      static_cast<unsigned>(std::min<std::size_t>(capacity, std::numeric_limits<int>::max() / 2));
  const int n = gzread(gz, buffer, want);
  int code = Z_OK;
  const char* message = gzerror(gz, &code);
  // zlib reports a stream that ends early as Z_BUF_ERROR ("unexpected end of file"), either with
  // the last bytes or on the following call.
  if (n < 0 || (code != Z_OK && code != Z_STREAM_END)) {
    const std::string detail = (code == Z_BUF_ERROR)
                                   ? "the gzip stream is truncated (unexpected end of file)"
                                   : std::string("gzip error: ") + message;
    throw Error(path_.string() + ": " + detail);
  }
  return static_cast<std::size_t>(n);
}

bool looks_binary(std::string_view head) {
  std::size_t control = 0;
  for (const char ch : head) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == 0) return true;
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != '\v') ++control;
  }
  return control * 20 > head.size();  // more than 5% control bytes
}

}  // namespace genolm::io
