#include "run/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>
#include <string>

#include "genolm/error.h"

namespace genolm::run {
namespace {

// The pid the holder wrote, for the message; empty when the file holds none.
std::string holder_of(int fd) {
  char text[32] = {};
  const ::ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  if (n <= 0) return "";
  std::string pid(text, static_cast<std::size_t>(n));
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' '))
    pid.pop_back();
  return pid.find_first_not_of("0123456789") == std::string::npos ? pid : "";
}

}  // namespace

void lock_run_folder(const std::filesystem::path& dir) {
  static std::mutex mutex;
  static std::set<std::string> held;  // folders this process has locked; their fds stay open
  const std::lock_guard<std::mutex> guard(mutex);
  const std::string key = std::filesystem::weakly_canonical(dir).string();
  if (held.count(key) != 0) return;

  const auto file = dir / ".lock";
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw Error("cannot lock the run folder " + dir.string() + " (" + file.string() +
                "): " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const std::string pid = holder_of(fd);
    ::close(fd);
    if (error == EWOULDBLOCK) {
      throw Error("run folder " + dir.string() + " is in use by another genolm process" +
                  (pid.empty() ? "" : " (pid " + pid + ")") +
                  ": two runs in one folder would mix their files; wait for it to end, or stop "
                  "it");
    }
    throw Error("cannot lock the run folder " + dir.string() + ": " + std::strerror(error));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  // Best effort: without the pid the lock still holds; only another process's message lacks it.
  [[maybe_unused]] const bool wrote =
      ::ftruncate(fd, 0) == 0 && ::pwrite(fd, pid.data(), pid.size(), 0) >= 0;
  held.insert(key);
}

}  // namespace genolm::run
