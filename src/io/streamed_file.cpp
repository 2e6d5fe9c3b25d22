#include "io/streamed_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "genolm/atomic_file.h"
#include "genolm/error.h"

namespace genolm::io {

StreamedFile::StreamedFile(std::filesystem::path path) : path_(std::move(path)) {
  if (path_ == "-") {
    file_ = stdout;
    return;
  }
  temp_path_ = path_.string() + ".tmp";
  file_ = std::fopen(temp_path_.c_str(), "wb");
  if (file_ == nullptr) {
    throw Error("cannot create " + temp_path_.string() + ": " + std::strerror(errno));
  }
}

StreamedFile::~StreamedFile() {
  if (!finished_) close_and_remove();
}

void StreamedFile::fail(const char* action) const {
  const auto& shown = to_standard_output() ? std::filesystem::path("standard output") : temp_path_;
  throw Error(std::string("cannot ") + action + " " + shown.string() + ": " + std::strerror(errno));
}

void StreamedFile::write(std::string_view bytes) {
  if (file_ == nullptr) throw Error(path_.string() + " is already finished");
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size())
    fail("write");
}

void StreamedFile::overwrite(std::uint64_t offset, std::string_view bytes) {
  if (file_ == nullptr) throw Error(path_.string() + " is already finished");
  if (to_standard_output()) {
    throw Error("this output cannot go to standard output: its header is written last");
  }
  if (std::fflush(file_) != 0 || std::fseek(file_, static_cast<long>(offset), SEEK_SET) != 0)
    fail("write");
  write(bytes);
  if (std::fflush(file_) != 0 || std::fseek(file_, 0, SEEK_END) != 0) fail("write");
}

void StreamedFile::finish() {
  if (file_ == nullptr) throw Error(path_.string() + " is already finished");
  if (to_standard_output()) {
    if (std::fflush(file_) != 0) fail("write");
    file_ = nullptr;
    finished_ = true;
    return;
  }
  // Synced before the rename: a full disk can surface only here, and must not leave a short file.
  if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) fail("write");
  const int closed = std::fclose(file_);
  file_ = nullptr;
  if (closed != 0) fail("write");
  std::error_code error;
  std::filesystem::rename(temp_path_, path_, error);
  if (error) {
    throw Error("cannot rename " + temp_path_.string() + " to " + path_.string() + ": " +
                error.message());
  }
  sync_folder(path_.has_parent_path() ? path_.parent_path() : std::filesystem::path("."));
  finished_ = true;
}

void StreamedFile::close_and_remove() {
  if (file_ == nullptr || to_standard_output()) {
    file_ = nullptr;
    return;
  }
  std::fclose(file_);
  file_ = nullptr;
  std::error_code ignored;  // a destructor must not throw; a leftover .tmp is harmless
  std::filesystem::remove(temp_path_, ignored);
}

}  // namespace genolm::io
