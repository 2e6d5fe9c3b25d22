#pragma once
// Variants from a VCF or BCF file, plain or bgzipped, read one record at a time through htslib,
// so a genome-sized file streams in bounded memory. Sample columns are not read.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace genolm::io {

struct VcfVariant {
  std::string chrom;
  std::int64_t position = 0;  // 1-based, as written
  std::string id;             // "." when the file gives none
  std::string ref;
  std::vector<std::string> alts;  // "." (no alternative) is left out
  std::uint64_t record = 0;       // 1-based number of the record after the header
};

class VcfReader {
 public:
  // Throws genolm::Error naming the file when it is missing or not VCF/BCF.
  explicit VcfReader(const std::filesystem::path& path);
  ~VcfReader();
  VcfReader(const VcfReader&) = delete;
  VcfReader& operator=(const VcfReader&) = delete;

  // The next record; false at the end. Throws genolm::Error naming the file and the record
  // number for a record htslib cannot parse.
  bool next(VcfVariant& variant);

  const std::filesystem::path& path() const { return path_; }

 private:
  struct Handles;
  std::filesystem::path path_;
  std::unique_ptr<Handles> handles_;
  std::uint64_t records_ = 0;
};

}  // namespace genolm::io
