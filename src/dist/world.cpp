#include "dist/world.h"

#include <charconv>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "dist/job_token.h"
#include "genolm/error.h"

namespace genolm::dist {
namespace {

std::optional<std::string> variable(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

// The whole value must be a decimal integer: "2 " or "2x" is a launcher bug worth reporting, not
// something to read as 2.
int parse_int(const char* name, const std::string& value) {
  int result = 0;
  const char* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, result);
  if (value.empty() || ec != std::errc() || ptr != end) {
    throw Error("environment variable " + std::string(name) + "='" + value + "' is not an integer");
  }
  return result;
}

std::optional<int> int_variable(const char* name) {
  const auto value = variable(name);
  if (!value) return std::nullopt;
  return parse_int(name, *value);
}

int required_int(const char* name, const char* because) {
  const auto value = int_variable(name);
  if (!value)
    throw Error("environment variable " + std::string(name) + " is not set (" + because + ")");
  return *value;
}

// SLURM_TASKS_PER_NODE reads like "4(x2),3": the first count is this layout's tasks on a node.
int first_count(const char* name, const std::string& value) {
  std::size_t digits = 0;
  while (digits < value.size() && value[digits] >= '0' && value[digits] <= '9')
    ++digits;
  if (digits == 0) {
    throw Error("environment variable " + std::string(name) + "='" + value +
                "' does not start with a task count (expected e.g. '4(x2),3')");
  }
  return parse_int(name, value.substr(0, digits));
}

void check_rank(const char* rank_name, int rank, const char* size_name, int size) {
  if (size < 1) {
    throw Error("environment variable " + std::string(size_name) + "=" + std::to_string(size) +
                " is out of range (expected at least 1)");
  }
  if (rank < 0 || rank >= size) {
    throw Error("environment variable " + std::string(rank_name) + "=" + std::to_string(rank) +
                " is out of range for " + size_name + "=" + std::to_string(size) +
                " (expected 0 <= " + rank_name + " < " + size_name + ")");
  }
}

void read_master(World& world) {
  if (const auto addr = variable("MASTER_ADDR")) {
    if (addr->empty()) throw Error("environment variable MASTER_ADDR is set but empty");
    world.master_addr = *addr;
  }
  if (const auto port = int_variable("MASTER_PORT")) {
    if (*port < 1 || *port > 65535) {
      throw Error("environment variable MASTER_PORT=" + std::to_string(*port) +
                  " is out of range (expected 1..65535)");
    }
    world.master_port = *port;
  }
  world.job_token = variable(kJobTokenVariable).value_or("");
}

World from_torchrun() {
  World world;
  world.rank = required_int("RANK", "torchrun sets RANK and WORLD_SIZE together");
  world.size = required_int("WORLD_SIZE", "torchrun sets RANK and WORLD_SIZE together");
  check_rank("RANK", world.rank, "WORLD_SIZE", world.size);
  // Without the local variables, assume one node: the same layout as the global one.
  world.local_rank = int_variable("LOCAL_RANK").value_or(world.rank);
  world.local_size = int_variable("LOCAL_WORLD_SIZE").value_or(world.size);
  check_rank("LOCAL_RANK", world.local_rank, "LOCAL_WORLD_SIZE", world.local_size);
  read_master(world);
  return world;
}

World from_slurm() {
  World world;
  world.rank = required_int("SLURM_PROCID", "SLURM sets it for every task");
  world.size = required_int("SLURM_NTASKS", "SLURM_PROCID is set, so the task count is needed");
  check_rank("SLURM_PROCID", world.rank, "SLURM_NTASKS", world.size);
  world.local_rank = int_variable("SLURM_LOCALID").value_or(0);
  if (const auto per_node = int_variable("SLURM_NTASKS_PER_NODE")) {
    world.local_size = *per_node;
    check_rank("SLURM_LOCALID", world.local_rank, "SLURM_NTASKS_PER_NODE", world.local_size);
  } else if (const auto tasks = variable("SLURM_TASKS_PER_NODE")) {
    world.local_size = first_count("SLURM_TASKS_PER_NODE", *tasks);
    check_rank("SLURM_LOCALID", world.local_rank, "SLURM_TASKS_PER_NODE", world.local_size);
  } else {
    world.local_size = world.size;
    check_rank("SLURM_LOCALID", world.local_rank, "SLURM_NTASKS", world.local_size);
  }
  read_master(world);
  return world;
}

}  // namespace

World world_from_environment() {
  if (variable("RANK") || variable("WORLD_SIZE")) return from_torchrun();
  if (variable("SLURM_PROCID")) return from_slurm();
  return World{};
}

}  // namespace genolm::dist
