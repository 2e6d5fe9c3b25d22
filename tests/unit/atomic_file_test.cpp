#include "genolm/atomic_file.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>

#include "genolm/error.h"
#include "genolm/tokenizers/kmer.h"
#include "support/test_files.h"

namespace genolm {
namespace {

// Runs `action` in a child process whose files may not grow past 64 bytes (RLIMIT_FSIZE: writes
// fail with EFBIG as they would with ENOSPC on a full disk) and returns its genolm::Error message,
// "no error", or what went wrong otherwise. The child keeps the limit away from the test runner.
std::string error_with_files_capped(const std::function<void()>& action) {
  int channel[2];
  if (::pipe(channel) != 0) return "pipe failed";
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(channel[0]);
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit cap{64, 64};
    ::setrlimit(RLIMIT_FSIZE, &cap);
    std::string message = "no error";
    try {
      action();
    } catch (const Error& e) {
      message = e.what();
    } catch (const std::exception& e) {
      message = std::string("another exception: ") + e.what();
    }
    [[maybe_unused]] const auto sent = ::write(channel[1], message.data(), message.size());
    ::_exit(0);
  }
  ::close(channel[1]);
  std::string message;
  char buffer[512];
  for (::ssize_t n; (n = ::read(channel[0], buffer, sizeof buffer)) > 0;)
    message.append(buffer, static_cast<std::size_t>(n));
  ::close(channel[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status)) return "the child crashed";
  return message;
}

TEST(AtomicFile, WritesTheWholeFileAndLeavesNoTemporaryFile) {
  test::TempDir dir;
  write_file_atomically(dir / "a.json", "new contents\n");
  write_file_atomically(dir / "a.json", "newer\n");
  EXPECT_EQ(test::read_text(dir / "a.json"), "newer\n");
  EXPECT_FALSE(std::filesystem::exists(dir / "a.json.tmp"));
}

TEST(AtomicFile, AFullDiskIsAnErrorNamingTheFileAndThePreviousVersionIsIntact) {
  test::TempDir dir;
  const auto file = dir / "run.json";
  test::write_text(file, "previous");
  const auto message =
      error_with_files_capped([&] { write_file_atomically(file, std::string(1000, 'x')); });
  EXPECT_EQ(message, "cannot write " + file.string() +
                         " (writing run.json.tmp failed; the previous version is kept): "
                         "File too large");
  EXPECT_EQ(test::read_text(file), "previous");
  EXPECT_FALSE(std::filesystem::exists(dir / "run.json.tmp"));
}

TEST(AtomicFile, AFolderThatCannotHoldTheFileIsAnErrorNamingIt) {
  test::TempDir dir;
  const auto file = dir / "missing" / "model.json";
  EXPECT_EQ(test::error_of([&] { write_file_atomically(file, "{}"); }),
            "cannot write " + file.string() +
                " (creating model.json.tmp failed): No such file or directory");
}

TEST(AtomicFile, ATokenizerSavedOnAFullDiskFailsAndKeepsTheFolderItHad) {
  // tokenizer.json was once written as 0 bytes with exit status 0 on a full disk.
  test::TempDir dir;
  tokenizers::KmerTokenizer(3, 1).save(dir / "tokenizer");
  const std::string before = test::read_text(dir / "tokenizer" / "tokenizer.json");
  const auto message =
      error_with_files_capped([&] { tokenizers::KmerTokenizer(6, 3).save(dir / "tokenizer"); });
  EXPECT_NE(message.find("cannot write " + (dir / "tokenizer" / "tokenizer.json").string()),
            std::string::npos)
      << message;
  EXPECT_EQ(test::read_text(dir / "tokenizer" / "tokenizer.json"), before);
}

}  // namespace
}  // namespace genolm
