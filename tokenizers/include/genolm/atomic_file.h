#pragma once
// Writing a file all or nothing. The contents go to a temporary file beside it, which is flushed
// to the disk (fsync) and checked, then renamed over the file, and the folder is synced. Readers,
// and runs after a crash or a full disk, see the previous version or the new one, never part of
// either. Every small file genolm writes goes through here.

#include <filesystem>
#include <string_view>

namespace genolm {

// Throws genolm::Error naming the file and the system's reason (out of space, say); the temporary
// file is removed and the previous version of `file` is left as it was.
void write_file_atomically(const std::filesystem::path& file, std::string_view contents);

// Flushes a written file's folder entry to the disk (after a rename into it); best effort, as some
// file systems refuse to sync a folder.
void sync_folder(const std::filesystem::path& folder);

}  // namespace genolm
