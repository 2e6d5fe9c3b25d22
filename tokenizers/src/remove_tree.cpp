#include "genolm/remove_tree.h"

#include <ftw.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>

#include "genolm/error.h"

namespace genolm {
namespace {

// nftw's callback takes no context, so the first failure of the walk in progress is kept here.
thread_local int first_failure = 0;

int remove_entry(const char* path, const struct stat* /*info*/, int /*type*/, struct FTW* /*at*/) {
  // Depth first: a folder's entries are gone by the time it is visited, so remove() suffices.
  if (std::remove(path) != 0 && errno != ENOENT && first_failure == 0) first_failure = errno;
  return 0;  // keep going: remove whatever can be removed
}

}  // namespace

bool remove_tree(const std::filesystem::path& path, std::error_code& error) {
  error.clear();
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) return true;
    error.assign(errno, std::generic_category());
    return false;
  }
  first_failure = 0;
  constexpr int kOpenFolders = 32;
  if (::nftw(path.c_str(), remove_entry, kOpenFolders, FTW_DEPTH | FTW_PHYS) != 0 &&
      first_failure == 0) {
    first_failure = errno;
  }
  if (first_failure != 0) {
    error.assign(first_failure, std::generic_category());
    return false;
  }
  return true;
}

void remove_tree(const std::filesystem::path& path) {
  std::error_code error;
  if (!remove_tree(path, error))
    throw Error("cannot remove " + path.string() + ": " + error.message());
}

}  // namespace genolm
