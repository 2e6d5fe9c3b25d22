#include "io/input_file.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "genolm/error.h"
#include "io/read_buffer.h"

namespace genolm::io {

struct InputFile::Stream {
  gzFile gz = nullptr;
  std::string peeked;           // bytes read ahead by peek(), served first by read()
  std::size_t peeked_used = 0;  // how many of them read() has served
  bool reading_started = false;

  ~Stream() {
    if (gz != nullptr) gzclose(gz);
  }

  // Reads straight from zlib, with the file name in errors.
  std::size_t read_gzip(char* buffer, std::size_t capacity, const std::filesystem::path& path) {
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
      throw Error(path.string() + ": " + detail);
    }
    return static_cast<std::size_t>(n);
  }
};

namespace {

// Standard input is one stream for the whole process: a sniffing reader's peek must reach the
// reader that comes after it. Never closed (the process owns descriptor 0).
InputFile::Stream& standard_input_stream() {
  static auto* stream = [] {
    auto* opened = new InputFile::Stream;
    opened->gz = gzdopen(STDIN_FILENO, "rb");
    return opened;
  }();
  return *stream;
}

}  // namespace

bool is_standard_input(const std::filesystem::path& path) {
  return path.native() == kStandardInputName;
}

InputFile::InputFile(std::filesystem::path path) : path_(std::move(path)) {
  if (is_standard_input(path_)) {
    if (isatty(STDIN_FILENO) != 0) {
      throw Error(
          "-: stands for standard input, but nothing is piped in (standard input is a "
          "terminal); pipe the data, e.g. `zcat reads.fa.gz | genolm ... -`, or name a file");
    }
    stream_ = &standard_input_stream();
    if (stream_->gz == nullptr) throw Error("-: cannot read standard input");
    if (stream_->reading_started) {
      throw Error(
          "-: standard input was already read through once and cannot be rewound; this input "
          "is read twice, so write it to a file and name the file");
    }
    return;
  }
  std::error_code ec;
  const auto status = std::filesystem::status(path_, ec);
  if (ec || !std::filesystem::exists(status)) {
    throw Error(path_.string() + ": no such file");
  }
  if (std::filesystem::is_directory(status)) {
    throw Error(path_.string() + ": is a folder, expected a file");
  }
  size_on_disk_ = std::filesystem::file_size(path_, ec);
  owned_ = std::make_unique<Stream>();
  owned_->gz = gzopen(path_.c_str(), "rb");
  if (owned_->gz == nullptr) {
    throw Error(path_.string() + ": cannot open (" + std::strerror(errno) + ")");
  }
  gzbuffer(owned_->gz, static_cast<unsigned>(kReadBufferBytes));
  stream_ = owned_.get();
}

InputFile::~InputFile() = default;

std::size_t InputFile::read(char* buffer, std::size_t capacity) {
  stream_->reading_started = true;
  const std::size_t waiting = stream_->peeked.size() - stream_->peeked_used;
  if (waiting > 0) {
    const std::size_t n = std::min(waiting, capacity);
    std::memcpy(buffer, stream_->peeked.data() + stream_->peeked_used, n);
    stream_->peeked_used += n;
    return n;
  }
  return stream_->read_gzip(buffer, capacity, path_);
}

std::string_view InputFile::peek(std::size_t bytes) {
  if (stream_->reading_started) {
    throw Error(path_.string() + ": peek() after read() (a reader sniffs before it reads)");
  }
  auto& peeked = stream_->peeked;
  while (peeked.size() < bytes) {
    const std::size_t had = peeked.size();
    peeked.resize(bytes);
    const std::size_t n = stream_->read_gzip(peeked.data() + had, bytes - had, path_);
    peeked.resize(had + n);
    if (n == 0) break;
  }
  return std::string_view(peeked).substr(0, std::min(bytes, peeked.size()));
}

double InputFile::fraction_read() const {
  if (size_on_disk_ == 0) return std::nan("");
  // gzoffset: the position in the file on disk, compressed or not.
  const auto offset = gzoffset(stream_->gz);
  return offset < 0
             ? std::nan("")
             : std::min(1.0, static_cast<double>(offset) / static_cast<double>(size_on_disk_));
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
