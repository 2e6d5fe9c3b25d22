#pragma once
// Regions from a BED file (plain or gzip): chrom, start (0-based), end (exclusive), and whatever
// columns follow, which are not read. Header, track and browser lines and '#' comments are
// skipped.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace genolm::io {

struct BedRegion {
  std::string chrom;
  std::int64_t start = 0;  // 0-based
  std::int64_t end = 0;    // exclusive
  std::uint64_t line = 0;
};

// Every region of the file, in its order. Throws genolm::Error naming the file and line for a
// line with fewer than three columns, a coordinate that is not a whole number, or end <= start.
std::vector<BedRegion> read_bed(const std::filesystem::path& path);

}  // namespace genolm::io
