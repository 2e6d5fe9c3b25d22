#pragma once
// A training command as one rank of a data-parallel job: the world from torchrun's or SLURM's
// environment (set by `genolm launch`, torchrun or srun), the process group, and rank-tagged,
// warnings-only logging on every rank but 0. A single process gets a world of one.

#include <memory>

#include "cli/commands.h"
#include "config/recipe.h"
#include "dist/communicator.h"
#include "dist/world.h"

namespace genolm::cli {

struct DataParallel {
  dist::World world;
  std::unique_ptr<dist::Communicator> comm;
  bool writer() const { return world.rank == 0; }  // rank 0 alone writes the run folder
};

// Joins the job the environment describes (dist.backend, dist.timeout from the recipe).
DataParallel join_data_parallel(const config::Recipe& recipe, const GlobalOptions& globals);
// The same for a command without a recipe (variants): backend "auto", "gloo" or "nccl".
DataParallel join_data_parallel(const std::string& backend, std::chrono::seconds timeout,
                                const GlobalOptions& globals);

}  // namespace genolm::cli
