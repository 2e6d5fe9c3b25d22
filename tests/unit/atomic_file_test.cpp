#include "genolm/atomic_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "genolm/error.h"
#include "genolm/tokenizers/kmer.h"
#include "support/test_files.h"

namespace genolm {
namespace {

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
  const auto message = test::error_with_file_size_limit(
      64, [&] { write_file_atomically(file, std::string(1000, 'x')); });
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
  const auto message = test::error_with_file_size_limit(
      64, [&] { tokenizers::KmerTokenizer(6, 3).save(dir / "tokenizer"); });
  EXPECT_NE(message.find("cannot write " + (dir / "tokenizer" / "tokenizer.json").string()),
            std::string::npos)
      << message;
  EXPECT_EQ(test::read_text(dir / "tokenizer" / "tokenizer.json"), before);
}

}  // namespace
}  // namespace genolm
