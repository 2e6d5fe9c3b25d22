#pragma once
// A readable byte stream over a plain or gzip file, detected by content (the gzip magic bytes),
// never by name. Concatenated gzip members (bgzip) read as one stream. A truncated or corrupt
// gzip stream is an error that names the file, not a silent end.
//
// "-" is standard input (a pipe: `zcat reads.fq.gz | genolm predict --input -`), plain or gzip.
// A pipe cannot be rewound, so readers that sniff a format peek() instead of reading; standard
// input can then be read through once, and a second pass is an error that says so.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>

namespace genolm::io {

// The name that stands for standard input wherever genolm reads a file.
inline constexpr std::string_view kStandardInputName = "-";

bool is_standard_input(const std::filesystem::path& path);

class InputFile {
 public:
  // Throws genolm::Error if the file is missing, a folder, or unreadable; for "-", if standard
  // input is a terminal (nothing was piped in) or was already read through.
  explicit InputFile(std::filesystem::path path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  // Reads up to `capacity` bytes; returns 0 only at the end of the data.
  std::size_t read(char* buffer, std::size_t capacity);
  // Up to `bytes` first bytes (decompressed) without consuming them: read() still starts at the
  // beginning, in this object and, for standard input, in the next InputFile("-").
  std::string_view peek(std::size_t bytes);

  const std::filesystem::path& path() const { return path_; }
  // Size on disk (compressed size for gzip), for progress and throughput figures; 0 for a pipe.
  std::uintmax_t size_on_disk() const { return size_on_disk_; }
  // The share of the file read so far, by bytes on disk (compressed ones for gzip); NaN for a
  // pipe, whose size is unknown.
  double fraction_read() const;

  struct Stream;  // a gzip (or transparent) stream with the bytes peeked but not yet read

 private:
  std::filesystem::path path_;
  std::unique_ptr<Stream> owned_;  // a file's own stream; empty for standard input
  Stream* stream_ = nullptr;
  std::uintmax_t size_on_disk_ = 0;
};

// True when the first bytes of a file cannot be text: a NUL byte, or many control bytes.
bool looks_binary(std::string_view head);

}  // namespace genolm::io
