#include "io/npy_writer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "genolm/error.h"
#include "support/test_files.h"

namespace genolm::io {
namespace {

// The parts of a version 1.0 .npy file, read byte by byte without NumPy.
struct NpyFile {
  std::string magic;  // 6 bytes
  int major = 0, minor = 0;
  std::size_t header_length = 0;  // the dict text, padding and newline
  std::string header;
  std::vector<float> values;
};

NpyFile read_npy(const std::filesystem::path& path) {
  const std::string bytes = test::read_text(path);
  NpyFile f;
  EXPECT_GE(bytes.size(), 10u);
  if (bytes.size() < 10) return f;
  f.magic = bytes.substr(0, 6);
  f.major = static_cast<unsigned char>(bytes[6]);
  f.minor = static_cast<unsigned char>(bytes[7]);
  f.header_length = static_cast<unsigned char>(bytes[8]) +
                    256 * static_cast<std::size_t>(static_cast<unsigned char>(bytes[9]));
  f.header = bytes.substr(10, f.header_length);
  const std::size_t data = 10 + f.header_length;
  EXPECT_EQ((bytes.size() - data) % sizeof(float), 0u);
  f.values.resize((bytes.size() - data) / sizeof(float));
  if (!f.values.empty())  // memcpy from or to a null pointer is undefined even for 0 bytes
    std::memcpy(f.values.data(), bytes.data() + data, f.values.size() * sizeof(float));
  return f;
}

const char kDict[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }";

TEST(Npy, StreamedRowsGetTheRealShapeInTheHeader) {
  test::TempDir dir;
  const auto path = dir / "embeddings.npy";
  {
    NpyWriter writer(path, 2);
    const float first[] = {1.0f, 2.0f};
    const float rest[] = {3.0f, 4.5f, -1.0f, 0.25f};
    writer.append(first, 1);
    writer.append(rest, 2);
    EXPECT_FALSE(std::filesystem::exists(path));  // nothing at the target until finish()
    writer.finish();
    EXPECT_EQ(writer.rows(), 3u);
  }
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
  const auto f = read_npy(path);
  EXPECT_EQ(f.magic, std::string("\x93NUMPY"));
  EXPECT_EQ(f.major, 1);
  EXPECT_EQ(f.minor, 0);
  EXPECT_EQ((10 + f.header_length) % 64, 0u);
  ASSERT_GE(f.header.size(), sizeof kDict);
  EXPECT_EQ(f.header.substr(0, sizeof kDict - 1), kDict);
  EXPECT_EQ(f.header.back(), '\n');
  // Between the dict and the newline: spaces only.
  EXPECT_EQ(f.header.find_first_not_of(' ', sizeof kDict - 1), f.header.size() - 1);
  EXPECT_EQ(f.values, (std::vector<float>{1.0f, 2.0f, 3.0f, 4.5f, -1.0f, 0.25f}));
}

TEST(Npy, WriteNpyWritesAWholeArrayAndChecksItsSize) {
  test::TempDir dir;
  write_npy(dir / "a.npy", {1, 2, 3, 4, 5, 6}, 3, 2);
  const auto f = read_npy(dir / "a.npy");
  EXPECT_EQ(f.header.substr(0, sizeof kDict - 1), kDict);
  EXPECT_EQ(f.values, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_NE(test::error_of([&] {
              write_npy(dir / "b.npy", {1, 2, 3}, 2, 2);
            }).find("b.npy"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "b.npy"));
}

TEST(Npy, EmptyArrayHasZeroRows) {
  test::TempDir dir;
  NpyWriter writer(dir / "empty.npy", 4);
  writer.finish();
  const auto f = read_npy(dir / "empty.npy");
  EXPECT_EQ(f.header.rfind("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }", 0), 0u);
  EXPECT_TRUE(f.values.empty());
  EXPECT_NE(test::error_of([&] { writer.finish(); }), "");  // finishing twice is a mistake
}

TEST(Npy, AbandonedWriterLeavesNoFile) {
  test::TempDir dir;
  const auto path = dir / "abandoned.npy";
  {
    NpyWriter writer(path, 2);
    const float row[] = {1.0f, 2.0f};
    writer.append(row, 1);
    EXPECT_TRUE(std::filesystem::exists(path.string() + ".tmp"));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(Npy, UnwritablePathNamesTheFile) {
  test::TempDir dir;
  const auto message = test::error_of([&] { NpyWriter(dir / "missing" / "x.npy", 2); });
  EXPECT_NE(message.find("x.npy.tmp"), std::string::npos) << message;
}

}  // namespace
}  // namespace genolm::io
