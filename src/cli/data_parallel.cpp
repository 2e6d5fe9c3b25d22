#include "cli/data_parallel.h"

#include "util/log.h"

namespace genolm::cli {

DataParallel join_data_parallel(const config::Recipe& recipe, const GlobalOptions& globals) {
  return join_data_parallel(recipe.string("dist.backend"),
                            std::chrono::seconds(recipe.integer("dist.timeout")), globals);
}

DataParallel join_data_parallel(const std::string& backend, std::chrono::seconds timeout,
                                const GlobalOptions& globals) {
  DataParallel job;
  job.world = dist::world_from_environment();
  if (job.world.rank > 0) {
    set_log_rank(job.world.rank);
    const auto& level = globals.log_level;
    if (level == "info" || level == "debug" || level == "trace") set_log_level("warn");
  }
  job.comm = std::make_unique<dist::Communicator>(job.world, backend, timeout);
  if (job.world.distributed()) {
    log("dist")->info("rank {} of {} ({} backend, {} threads each)", job.world.rank, job.world.size,
                      job.comm->backend(), globals.resolved_threads());
  }
  return job;
}

}  // namespace genolm::cli
