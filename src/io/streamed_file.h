#pragma once
// A file written from start to end as a stream, too large to hold in memory (a score per variant
// of a genome-sized VCF, an embedding per read). The bytes go to `path.tmp`; finish() syncs it and
// renames it onto `path`, so a reader sees the whole file or none, and an interrupted command
// leaves no half file. "-" streams to standard output instead (pipes), where there is nothing to
// rename.

#include <cstdio>
#include <filesystem>
#include <string_view>

namespace genolm::io {

class StreamedFile {
 public:
  // Opens `path` + ".tmp" (or standard output for "-"); throws genolm::Error naming the file and
  // the system's reason when it cannot.
  explicit StreamedFile(std::filesystem::path path);
  // Without finish(), the temporary file is removed.
  ~StreamedFile();
  StreamedFile(const StreamedFile&) = delete;
  StreamedFile& operator=(const StreamedFile&) = delete;

  void write(std::string_view bytes);
  // Writes `bytes` over what was written at `offset` and returns to the end (a header whose counts
  // are known only at the end). Not possible on standard output: throws genolm::Error.
  void overwrite(std::uint64_t offset, std::string_view bytes);
  // Flushes, syncs, closes and renames onto the target. Throws genolm::Error on a write failure
  // (a full disk surfaces here at the latest), or when called twice.
  void finish();

  bool to_standard_output() const { return file_ == stdout; }
  const std::filesystem::path& path() const { return path_; }

 private:
  void close_and_remove();
  [[noreturn]] void fail(const char* action) const;

  std::filesystem::path path_;
  std::filesystem::path temp_path_;
  std::FILE* file_ = nullptr;
  bool finished_ = false;
};

}  // namespace genolm::io
