#pragma once
// Removing a folder and everything in it, as std::filesystem::remove_all does, without calling
// it: PyTorch's pip wheels export their own copy of remove_all from libtorch.so (linked in from
// GCC's non-shared libstdc++ for manylinux), which wins symbol resolution over libstdc++'s and
// jumps to a null pointer on any folder that is not empty (seen with torch 2.11.0+cu130). Every
// removal of a tree in genolm goes through here.

#include <filesystem>
#include <system_error>

namespace genolm {

// Removes `path` (a file, a link or a folder with everything under it; links are removed, never
// followed). A path that does not exist is not an error. On failure, sets `error` to the first
// failure's cause and returns false; what could be removed is removed.
bool remove_tree(const std::filesystem::path& path, std::error_code& error);

// The same, throwing genolm::Error that names the path and the cause.
void remove_tree(const std::filesystem::path& path);

}  // namespace genolm
