#include "io/bed_reader.h"

#include <charconv>
#include <sstream>

#include "genolm/error.h"
#include "io/input_file.h"

namespace genolm::io {
namespace {

std::int64_t coordinate(const std::string& text, const std::string& where, const char* name) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < 0) {
    throw Error(where + ": the " + std::string(name) + " '" + text +
                "' is not a whole number >= 0 (BED: chrom, start, end, tab-separated, 0-based)");
  }
  return value;
}

}  // namespace

std::vector<BedRegion> read_bed(const std::filesystem::path& path) {
  InputFile file(path);
  std::string text;
  char buffer[1 << 16];
  for (std::size_t n; (n = file.read(buffer, sizeof buffer)) > 0;)
    text.append(buffer, n);
  std::vector<BedRegion> regions;
  std::istringstream lines(text);
  std::string line;
  std::uint64_t number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#' || line.rfind("track", 0) == 0 ||
        line.rfind("browser", 0) == 0) {
      continue;
    }
    const std::string where = path.string() + " line " + std::to_string(number);
    std::vector<std::string> fields;
    std::istringstream columns(line);
    for (std::string field; std::getline(columns, field, '\t') && fields.size() < 3;)
      fields.push_back(field);
    if (fields.size() < 3) {
      throw Error(where + ": expected chrom, start and end separated by tabs, got '" + line + "'");
    }
    BedRegion region{fields[0], coordinate(fields[1], where, "start"),
                     coordinate(fields[2], where, "end"), number};
    if (region.end <= region.start) {
      throw Error(where + ": end " + fields[2] + " is not after start " + fields[1]);
    }
    regions.push_back(std::move(region));
  }
  return regions;
}

}  // namespace genolm::io
