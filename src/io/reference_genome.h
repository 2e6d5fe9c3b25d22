#pragma once
// A reference genome read through htslib's faidx: plain or bgzip FASTA with its .fai index (and
// .gzi for bgzip), fetched by contig and range without reading the rest of the file, so a human
// genome costs a few megabytes of memory. The index is built when it is missing and the folder
// is writable; otherwise the error says how to make it.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace genolm::io {

class ReferenceGenome {
 public:
  // Throws genolm::Error naming the file: missing, not FASTA (or gzip that is not bgzip), or no
  // index where none can be written.
  explicit ReferenceGenome(const std::filesystem::path& fasta);
  ~ReferenceGenome();
  ReferenceGenome(const ReferenceGenome&) = delete;
  ReferenceGenome& operator=(const ReferenceGenome&) = delete;

  // The contigs in the file's order.
  std::vector<std::string> contigs() const;
  bool has_contig(const std::string& contig) const;
  // Throws genolm::Error for a contig the index does not hold.
  std::int64_t contig_length(const std::string& contig) const;
  // Bases [begin, end) of `contig`, 0-based, as the file has them (soft-masked lowercase kept);
  // the range must lie within the contig.
  std::string fetch(const std::string& contig, std::int64_t begin, std::int64_t end) const;

  const std::filesystem::path& path() const { return path_; }

 private:
  struct Index;
  std::filesystem::path path_;
  std::unique_ptr<Index> index_;
};

}  // namespace genolm::io
