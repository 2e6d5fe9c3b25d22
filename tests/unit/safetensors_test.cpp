#include "io/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "genolm/error.h"
#include "support/test_files.h"

namespace genolm::io {
namespace {

std::string floats(std::initializer_list<float> values) {
  std::string bytes(values.size() * sizeof(float), '\0');
  std::memcpy(bytes.data(), values.begin(), bytes.size());
  return bytes;
}

std::string two_tensors() {
  const std::string weight = floats({1, 2, 3, 4, 5, 6});
  const std::string step(8, '\x01');
  return encode_safetensors(
      {{.name = "layer.weight", .dtype = TensorDtype::f32, .shape = {2, 3}, .bytes = weight},
       {.name = "step", .dtype = TensorDtype::i64, .shape = {}, .bytes = step}},
      {{"counters", R"({"step":3})"}});
}

// A file from its header JSON and data section, as another writer (or an attacker) would make it.
std::string assemble(const nlohmann::json& header, const std::string& data) {
  const std::string text = header.dump();
  std::string file(8, '\0');
  const std::uint64_t size = text.size();
  std::memcpy(file.data(), &size, sizeof size);
  return file + text + data;
}

std::string error_parsing(std::string contents, bool require_checksum = false) {
  return test::error_of(
      [&] { SafetensorsFile::parse(std::move(contents), "w.safetensors", require_checksum); });
}

TEST(Safetensors, WhatIsWrittenReadsBackWithItsMetadataAndChecksum) {
  const auto file = SafetensorsFile::parse(two_tensors(), "w.safetensors", true);
  ASSERT_EQ(file.tensors().size(), 2u);
  const auto* weight = file.find("layer.weight");
  ASSERT_NE(weight, nullptr);
  EXPECT_EQ(weight->dtype, TensorDtype::f32);
  EXPECT_EQ(weight->shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(weight->bytes, floats({1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(file.find("step")->shape.size(), 0u);
  EXPECT_EQ(file.metadata().at("counters"), R"({"step":3})");
  EXPECT_EQ(file.metadata().at("genolm_crc32").size(), 8u);
  EXPECT_EQ(file.find("absent"), nullptr);
}

// The layout other safetensors readers expect: 8-byte length, JSON header, 8-aligned data.
TEST(Safetensors, TheFileFollowsTheSafetensorsLayout) {
  const auto bytes = two_tensors();
  std::uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data(), 8);
  EXPECT_EQ(header_size % 8, 0u);
  const auto header = nlohmann::json::parse(bytes.substr(8, header_size));
  EXPECT_EQ(header["layer.weight"]["dtype"], "F32");
  EXPECT_EQ(header["layer.weight"]["data_offsets"], nlohmann::json({0, 24}));
  EXPECT_EQ(header["step"]["data_offsets"], nlohmann::json({24, 32}));
  EXPECT_EQ(bytes.size(), 8 + header_size + 32);
}

TEST(Safetensors, AFlippedByteAnywhereIsAnErrorNamingTheFile) {
  const auto bytes = two_tensors();
  // One byte of tensor data, one inside a metadata value: neither breaks the structure.
  for (const auto at : {bytes.size() - 20, bytes.find(R"(\":3})") + 2}) {
    auto damaged = bytes;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x01);
    EXPECT_EQ(error_parsing(damaged),
              "w.safetensors is damaged: its bytes do not match the checksum saved with them")
        << "byte " << at;
  }
}

TEST(Safetensors, ADamagedOrHostileHeaderIsAClearErrorBeforeAnyByteIsUsed) {
  const std::string data = floats({1, 2});
  const auto entry = [](const char* dtype, nlohmann::json shape, nlohmann::json offsets) {
    return nlohmann::json{{"dtype", dtype}, {"shape", shape}, {"data_offsets", offsets}};
  };
  const std::string prefix = "w.safetensors is not a valid safetensors file: ";
  EXPECT_EQ(error_parsing("abc"), prefix +
                                      "it has 3 bytes, fewer than the 8 of a safetensors "
                                      "header length");
  EXPECT_EQ(error_parsing(std::string(8, '\xff') + "{}"),
            prefix +
                "its header claims 18446744073709551615 bytes but the file has 10 (truncated "
                "or damaged)");
  EXPECT_EQ(error_parsing(assemble(nlohmann::json::array(), "")),
            prefix + "its header is not a JSON object (truncated or damaged)");
  EXPECT_EQ(error_parsing(assemble({{"t", entry("F33", {2}, {0, 8})}}, data)),
            prefix +
                "tensor 't' has dtype \"F33\" (expected F64, F32, F16, BF16, I64, I32, I16, "
                "I8, U8 or BOOL)");
  EXPECT_EQ(error_parsing(assemble({{"t", entry("F32", {3}, {0, 8})}}, data)),
            prefix + "tensor 't' holds 8 bytes, but its dtype and shape make 12");
  EXPECT_EQ(error_parsing(assemble({{"t", entry("F32", {-2}, {0, 8})}}, data)),
            prefix + "tensor 't' has dimension -2 (expected 0 to 2^40)");
  EXPECT_EQ(error_parsing(assemble({{"t", entry("F32", {1LL << 40, 1LL << 40}, {0, 8})}}, data)),
            prefix + "tensor 't' has a shape too large to address");
  EXPECT_EQ(error_parsing(assemble({{"t", entry("F32", {4}, {0, 16})}}, data)),
            prefix + "tensor 't' runs to byte 16 of a data section of 8 (truncated or damaged)");
  EXPECT_EQ(error_parsing(assemble(
                {{"a", entry("F32", {2}, {0, 8})}, {"b", entry("F32", {1}, {4, 8})}}, data)),
            prefix +
                "tensor 'b' starts at byte 4 of the data section, expected 8 (tensors overlap "
                "or leave a gap)");
  EXPECT_EQ(error_parsing(assemble({{"t", entry("F32", {1}, {0, 4})}}, data)),
            prefix + "its tensors cover 4 of the 8 data bytes");
  EXPECT_EQ(error_parsing(assemble({{"t", entry("F32", {2}, {8, 0})}}, data)),
            prefix + "tensor 't' ends before it begins");
  EXPECT_EQ(error_parsing(assemble({{"t", {{"dtype", "F32"}}}}, data)),
            prefix + "tensor 't' lacks dtype, shape or data_offsets");
  EXPECT_EQ(error_parsing(assemble({{"__metadata__", {{"k", 1}}}}, "")),
            prefix + "metadata 'k' is not a string");
  // Well formed, but not from genolm: refused where a checksum is required.
  EXPECT_EQ(error_parsing(assemble({{"t", entry("F32", {2}, {0, 8})}}, data), true),
            prefix + "it has no genolm_crc32 checksum (genolm writes one in every file)");
  EXPECT_NO_THROW(
      SafetensorsFile::parse(assemble({{"t", entry("F32", {2}, {0, 8})}}, data), "w", false));
}

TEST(Safetensors, ANameWrittenTwiceOrBytesThatDoNotMatchTheShapeAreRefused) {
  const std::string four = floats({1});
  EXPECT_EQ(test::error_of([&] {
              encode_safetensors({{.name = "a", .shape = {1}, .bytes = four},
                                  {.name = "a", .shape = {1}, .bytes = four}},
                                 {});
            }),
            "cannot save tensor 'a': the name is used twice or reserved");
  EXPECT_EQ(
      test::error_of([&] { encode_safetensors({{.name = "a", .shape = {2}, .bytes = four}}, {}); }),
      "cannot save tensor 'a': its bytes do not match its shape");
}

}  // namespace
}  // namespace genolm::io
