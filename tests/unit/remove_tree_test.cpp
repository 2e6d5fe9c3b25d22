#include "genolm/remove_tree.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "genolm/error.h"
#include "support/test_files.h"

namespace genolm {
namespace {

namespace fs = std::filesystem;

TEST(RemoveTree, RemovesNestedFoldersAndFilesButNeverFollowsALink) {
  test::TempDir dir;
  const auto outside = dir / "outside";
  fs::create_directories(outside);
  test::write_text(outside / "kept.txt", "stays");
  const auto tree = dir / "tree";
  fs::create_directories(tree / "a" / "b" / "c");
  test::write_text(tree / "top.txt", "x");
  test::write_text(tree / "a" / "b" / "c" / "deep.txt", "y");
  fs::create_directory_symlink(outside, tree / "a" / "link");

  std::error_code error;
  EXPECT_TRUE(remove_tree(tree, error)) << error.message();
  EXPECT_FALSE(fs::exists(fs::symlink_status(tree)));
  EXPECT_EQ(test::read_text(outside / "kept.txt"), "stays");
}

TEST(RemoveTree, AFileOrAMissingPathIsFine) {
  test::TempDir dir;
  test::write_text(dir / "file", "x");
  std::error_code error;
  EXPECT_TRUE(remove_tree(dir / "file", error));
  EXPECT_FALSE(fs::exists(dir / "file"));
  EXPECT_TRUE(remove_tree(dir / "never-there", error));
  EXPECT_FALSE(error);
}

TEST(RemoveTree, FailureSetsTheCauseAndTheThrowingFormNamesThePath) {
  test::TempDir dir;
  test::write_text(dir / "file", "x");
  const auto impossible = dir / "file" / "below";  // a file cannot hold entries
  std::error_code error;
  EXPECT_FALSE(remove_tree(impossible, error));
  EXPECT_EQ(error, std::errc::not_a_directory);
  EXPECT_EQ(test::error_of([&] { remove_tree(impossible); }),
            "cannot remove " + impossible.string() + ": " + error.message());
}

}  // namespace
}  // namespace genolm
