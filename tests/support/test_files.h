#pragma once
// Temporary folders and small file writers for tests; every test writes the data it reads.

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace genolm::test {

// A fresh folder under the system temp dir, removed with everything in it at scope end.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

void write_text(const std::filesystem::path& file, std::string_view text);
void write_gzip(const std::filesystem::path& file, std::string_view text);
std::string read_text(const std::filesystem::path& file);

// The message of the genolm::Error that `action` throws, or "" when it throws none.
std::string error_of(const std::function<void()>& action);

// Runs `action` in a child process whose files may not grow past `bytes` (RLIMIT_FSIZE: writes
// fail with EFBIG as they fail with ENOSPC on a full disk) and returns its genolm::Error message,
// "no error", or what else went wrong. The child keeps the limit away from the test runner.
std::string error_with_file_size_limit(std::size_t bytes, const std::function<void()>& action);

// A deterministic pseudo-random DNA string of `length` bases over ACGT.
std::string random_dna(std::size_t length, unsigned seed);

// DNA with real structure for language models to learn: tandem copies of a 37-base unit with 3%
// substitutions.
std::string tandem_repeats(std::size_t length, unsigned seed);

// One FASTA record: ">name", then `dna` in 70-base lines.
std::string fasta_record(const std::string& name, const std::string& dna);

}  // namespace genolm::test
