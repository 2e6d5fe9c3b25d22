#include "report/metrics_log.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>

#include "genolm/atomic_file.h"
#include "genolm/error.h"

namespace genolm::report {
namespace {

std::string system_error(const std::filesystem::path& file, const std::string& what) {
  return "cannot " + what + " " + file.string() + ": " + std::strerror(errno);
}

// A row is a whole JSON object on one line; anything else is a torn or foreign line.
bool parse_row(const std::string& line, nlohmann::json& row) {
  row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  return !row.is_discarded() && row.is_object();
}

bool blank(const std::string& line) {
  return line.find_first_not_of(" \t\r") == std::string::npos;
}

// True when the file holds something and its last byte is not a newline: a killed run tore the
// last line, and the next row must start on a line of its own or both would be lost.
bool ends_mid_line(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  if (!in || in.tellg() <= 0) return false;
  in.seekg(-1, std::ios::end);
  return in.get() != '\n';
}

bool after_step(const nlohmann::json& row, std::int64_t step) {
  const auto found = row.find("step");
  if (found == row.end() || !found->is_number()) return false;
  if (found->is_number_float()) return found->get<double>() > static_cast<double>(step);
  if (found->is_number_unsigned())  // may exceed int64: compare unsigned
    return step < 0 || found->get<std::uint64_t>() > static_cast<std::uint64_t>(step);
  return found->get<std::int64_t>() > step;
}

}  // namespace

MetricsLog::MetricsLog(std::filesystem::path file) : path_(std::move(file)) {
  const bool torn = ends_mid_line(path_);
  file_ = std::fopen(path_.c_str(), "ab");
  if (file_ == nullptr) throw Error(system_error(path_, "open metrics log"));
  if (torn && (std::fputc('\n', file_) == EOF || std::fflush(file_) != 0))
    throw Error(system_error(path_, "write to"));
}

MetricsLog::~MetricsLog() {
  if (file_ != nullptr) std::fclose(file_);
}

void MetricsLog::append(const nlohmann::json& row) {
  if (!row.is_object())
    throw Error("metrics row for " + path_.string() + " is a JSON " + row.type_name() +
                " (expected an object such as {\"step\": 1, \"loss\": 2.0})");
  // dump() without indent never breaks lines, and replaces invalid UTF-8 rather than throwing.
  const std::string line =
      row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0)
    throw Error(system_error(path_, "write to"));
}

std::vector<nlohmann::json> read_metrics(const std::filesystem::path& file, std::size_t* skipped) {
  std::vector<nlohmann::json> rows;
  if (skipped != nullptr) *skipped = 0;
  if (!std::filesystem::exists(file)) return rows;
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(system_error(file, "read"));
  std::string line;
  nlohmann::json row;
  while (std::getline(in, line)) {
    if (blank(line)) continue;
    if (parse_row(line, row))
      rows.push_back(std::move(row));
    else if (skipped != nullptr)
      ++*skipped;
  }
  return rows;
}

void truncate_metrics_after(const std::filesystem::path& file, std::int64_t step) {
  if (!std::filesystem::exists(file)) return;
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(system_error(file, "read"));
  std::string kept;
  std::string line;
  nlohmann::json row;
  // Kept lines are copied byte for byte: a rewrite must not change what was logged.
  while (std::getline(in, line)) {
    if (!blank(line) && parse_row(line, row) && !after_step(row, step)) kept += line + '\n';
  }
  if (in.bad()) throw Error(system_error(file, "read"));
  write_file_atomically(file, kept);
}

}  // namespace genolm::report
