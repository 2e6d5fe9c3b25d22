#pragma once
// A readable byte stream over a plain or gzip file, detected by content (the gzip magic bytes),
// never by name. Concatenated gzip members (bgzip) read as one stream. A truncated or corrupt
// gzip stream is an error that names the file, not a silent end.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

namespace genolm::io {

class InputFile {
 public:
  // Throws genolm::Error if the file is missing, a folder, or unreadable.
  explicit InputFile(std::filesystem::path path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  // Reads up to `capacity` bytes; returns 0 only at the end of the data.
  std::size_t read(char* buffer, std::size_t capacity);

  const std::filesystem::path& path() const { return path_; }
  bool compressed() const { return compressed_; }
  // Size on disk (compressed size for gzip), for progress and throughput figures.
  std::uintmax_t size_on_disk() const { return size_on_disk_; }

 private:
  std::filesystem::path path_;
  void* gz_ = nullptr;  // gzFile; zlib reads plain files through the same calls
  bool compressed_ = false;
  std::uintmax_t size_on_disk_ = 0;
};

// True when the first bytes of a file cannot be text: a NUL byte, or many control bytes.
bool looks_binary(std::string_view head);

}  // namespace genolm::io
