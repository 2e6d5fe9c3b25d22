#include "genolm/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "genolm/error.h"

namespace genolm {
namespace {

// Removes the temporary file and throws, keeping the first failure's reason.
[[noreturn]] void give_up(const std::filesystem::path& file, const std::filesystem::path& temp,
                          const char* step, int error) {
  ::unlink(temp.c_str());
  throw Error("cannot write " + file.string() + " (" + step + " " + temp.filename().string() +
              " failed; the previous version is kept): " + std::strerror(error));
}

}  // namespace

void write_file_atomically(const std::filesystem::path& file, std::string_view contents) {
  const auto temp = std::filesystem::path(file.string() + ".tmp");
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw Error("cannot write " + file.string() + " (creating " + temp.filename().string() +
                " failed): " + std::strerror(errno));
  }
  std::size_t written = 0;
  while (written < contents.size()) {
    const ::ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : EIO;
      ::close(fd);
      give_up(file, temp, "writing", error);
    }
    written += static_cast<std::size_t>(n);
  }
  // A full disk may only show here: data sits in the page cache until it is synced.
  if (::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    give_up(file, temp, "syncing", error);
  }
  if (::close(fd) != 0) give_up(file, temp, "closing", errno);
  if (::rename(temp.c_str(), file.c_str()) != 0) give_up(file, temp, "renaming", errno);
  sync_folder(file.has_parent_path() ? file.parent_path() : std::filesystem::path("."));
}

void sync_folder(const std::filesystem::path& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace genolm
