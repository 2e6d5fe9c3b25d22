#include "util/log.h"

#include <algorithm>
#include <map>
#include <mutex>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "genolm/error.h"

namespace genolm {

namespace {

// One timestamp format everywhere, terminal and files.
constexpr const char* kTime = "[%Y-%m-%d %H:%M:%S] ";

// The run logs (train.log) added so far: what file-only lines go to.
std::shared_ptr<spdlog::sinks::dist_sink_mt> files_sink() {
  static auto sink = std::make_shared<spdlog::sinks::dist_sink_mt>();
  return sink;
}

std::shared_ptr<spdlog::sinks::sink> terminal_sink() {
  static auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  return sink;
}

// One fan-out sink shared by every area's logger: stderr always, a run's train.log when added.
std::shared_ptr<spdlog::sinks::dist_sink_mt> shared_sink() {
  static auto sink = [] {
    auto dist = std::make_shared<spdlog::sinks::dist_sink_mt>();
    dist->add_sink(terminal_sink());
    dist->add_sink(files_sink());
    return dist;
  }();
  return sink;
}

// The file sinks added so far, by file name.
std::map<std::string, std::shared_ptr<spdlog::sinks::sink>>& file_sinks() {
  static std::map<std::string, std::shared_ptr<spdlog::sinks::sink>> sinks;
  return sinks;
}

std::mutex& file_sinks_mutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace

void add_log_file(const std::string& file) {
  auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file, /*truncate=*/false);
  sink->set_pattern(std::string(kTime) + "[%n] [%l] %v");
  files_sink()->add_sink(sink);
  std::lock_guard lock(file_sinks_mutex());
  file_sinks()[file] = sink;
}

void remove_log_file(const std::string& file) {
  std::lock_guard lock(file_sinks_mutex());
  const auto found = file_sinks().find(file);
  if (found == file_sinks().end()) return;
  files_sink()->remove_sink(found->second);
  file_sinks().erase(found);
}

namespace {

// "" in a single process; "[rank 3] " in a worker of a data-parallel job.
std::string& rank_tag() {
  static std::string tag;
  return tag;
}

}  // namespace

std::shared_ptr<spdlog::logger> log(const std::string& area) {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  if (auto existing = spdlog::get(area)) return existing;
  auto logger = std::make_shared<spdlog::logger>(area, shared_sink());
  logger->set_pattern(kTime + rank_tag() + "[%n] %^%v%$");
  logger->set_level(spdlog::get_level());
  spdlog::register_logger(logger);
  return logger;
}

std::shared_ptr<spdlog::logger> log_file_only(const std::string& area) {
  // Not in spdlog's registry, which holds one logger per name: the area's own is there.
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<spdlog::logger>> loggers;
  std::lock_guard lock(mutex);
  auto& logger = loggers[area];
  if (!logger) logger = std::make_shared<spdlog::logger>(area, files_sink());
  logger->set_level(spdlog::get_level());
  return logger;
}

void set_log_level(const std::string& level) {
  const auto parsed = spdlog::level::from_str(level);
  // from_str answers "off" for anything it does not know; only a real "off" may mean that.
  if (parsed == spdlog::level::off && level != "off") {
    throw Error("--log-level '" + level + "': expected trace, debug, info, warn, error or off");
  }
  // --log-level quiets the terminal; a run's train.log keeps every info line whatever it says.
  terminal_sink()->set_level(parsed);
  const auto loggers = std::min(parsed, spdlog::level::info);
  spdlog::set_level(loggers);
  spdlog::apply_all([loggers](const std::shared_ptr<spdlog::logger>& l) { l->set_level(loggers); });
}

void set_log_rank(int rank) {
  rank_tag() = "[rank " + std::to_string(rank) + "] ";
  const std::string pattern = kTime + rank_tag() + "[%n] %^%v%$";
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { l->set_pattern(pattern); });
}

}  // namespace genolm
