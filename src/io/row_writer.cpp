#include "io/row_writer.h"

#include <bit>
#include <limits>

#include <nlohmann/json.hpp>

#include "genolm/error.h"
#include "io/npy_writer.h"
#include "io/streamed_file.h"

namespace genolm::io {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian floats as the machine holds them");

// safetensors: an 8-byte little-endian header length, the JSON header (which may end in spaces),
// then the tensor's bytes.
class SafetensorsRowWriter final : public RowWriter {
 public:
  SafetensorsRowWriter(std::filesystem::path path, std::size_t columns,
                       std::map<std::string, std::string> metadata)
      : file_(std::move(path)), columns_(columns), metadata_(std::move(metadata)) {
    if (file_.to_standard_output()) {
      throw Error(
          ".safetensors output cannot go to standard output: its header, which holds the row "
          "count, is written last");
    }
    // Room for the widest row count; data start 8-byte aligned, as readers that map the file
    // prefer.
    const std::size_t widest = header_json(std::numeric_limits<std::uint64_t>::max() / 8).size();
    header_bytes_ = (8 + widest + 7) / 8 * 8 - 8;
    file_.write(header());
  }

  void append(const float* rows, std::size_t row_count) override {
    file_.write({reinterpret_cast<const char*>(rows), row_count * columns_ * sizeof(float)});
    rows_ += row_count;
  }

  void finish() override {
    file_.overwrite(0, header());
    file_.finish();
  }

  std::uint64_t rows() const override { return rows_; }

 private:
  std::string header_json(std::uint64_t rows) const {
    nlohmann::json header;
    header["__metadata__"] = metadata_;
    header[std::string(kRowsTensorName)] = {{"dtype", "F32"},
                                            {"shape", {rows, columns_}},
                                            {"data_offsets", {0, rows * columns_ * sizeof(float)}}};
    return header.dump();
  }

  std::string header() const {
    std::string json = header_json(rows_);
    json.append(header_bytes_ - json.size(), ' ');
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i)
      out[static_cast<std::size_t>(i)] = static_cast<char>((header_bytes_ >> (8 * i)) & 0xff);
    return out + json;
  }

  StreamedFile file_;
  std::size_t columns_;
  std::map<std::string, std::string> metadata_;
  std::uint64_t rows_ = 0;
  std::size_t header_bytes_ = 0;
};

class NpyRowWriter final : public RowWriter {
 public:
  NpyRowWriter(std::filesystem::path path, std::size_t columns) : npy_(std::move(path), columns) {}
  void append(const float* rows, std::size_t row_count) override { npy_.append(rows, row_count); }
  void finish() override { npy_.finish(); }
  std::uint64_t rows() const override { return npy_.rows(); }

 private:
  NpyWriter npy_;
};

}  // namespace

std::unique_ptr<RowWriter> open_row_writer(const std::filesystem::path& path, std::size_t columns,
                                           const std::map<std::string, std::string>& metadata) {
  if (path.extension() == ".safetensors")
    return std::make_unique<SafetensorsRowWriter>(path, columns, metadata);
  return std::make_unique<NpyRowWriter>(path, columns);
}

}  // namespace genolm::io
