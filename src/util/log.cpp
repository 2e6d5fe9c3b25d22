#include "util/log.h"

#include <map>
#include <mutex>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "genolm/error.h"

namespace genolm {

namespace {

// One fan-out sink shared by every area's logger: stderr always, a run's train.log when added.
std::shared_ptr<spdlog::sinks::dist_sink_mt> shared_sink() {
  static auto sink = [] {
    auto dist = std::make_shared<spdlog::sinks::dist_sink_mt>();
    dist->add_sink(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
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
  sink->set_pattern("[%Y-%m-%d %H:%M:%S] [%n] [%l] %v");
  shared_sink()->add_sink(sink);
  std::lock_guard lock(file_sinks_mutex());
  file_sinks()[file] = sink;
}

void remove_log_file(const std::string& file) {
  std::lock_guard lock(file_sinks_mutex());
  const auto found = file_sinks().find(file);
  if (found == file_sinks().end()) return;
  shared_sink()->remove_sink(found->second);
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
  logger->set_pattern("[%H:%M:%S] " + rank_tag() + "[%n] %^%v%$");
  logger->set_level(spdlog::get_level());
  spdlog::register_logger(logger);
  return logger;
}

void set_log_level(const std::string& level) {
  const auto parsed = spdlog::level::from_str(level);
  // from_str answers "off" for anything it does not know; only a real "off" may mean that.
  if (parsed == spdlog::level::off && level != "off") {
    throw Error("--log-level '" + level + "': expected trace, debug, info, warn, error or off");
  }
  spdlog::set_level(parsed);
  spdlog::apply_all([parsed](const std::shared_ptr<spdlog::logger>& l) { l->set_level(parsed); });
}

void set_log_rank(int rank) {
  rank_tag() = "[rank " + std::to_string(rank) + "] ";
  const std::string pattern = "[%H:%M:%S] " + rank_tag() + "[%n] %^%v%$";
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { l->set_pattern(pattern); });
}

}  // namespace genolm
