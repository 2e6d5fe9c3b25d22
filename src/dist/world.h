#pragma once
// Who this process is among the ranks of a training job, read from the environment that the
// launcher (torchrun or SLURM's srun) sets. Free of LibTorch so that anything may ask.

#include <string>

namespace genolm::dist {

struct World {
  int rank = 0, size = 1, local_rank = 0, local_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  // GENOLM_JOB_TOKEN (dist/job_token.h); empty when unset, and then the rendezvous admits any peer.
  std::string job_token;
  bool distributed() const { return size > 1; }
};

// torchrun's RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE first; else SLURM's SLURM_PROCID,
// SLURM_NTASKS, SLURM_LOCALID, SLURM_NTASKS_PER_NODE (or the first count in SLURM_TASKS_PER_NODE);
// MASTER_ADDR, MASTER_PORT and GENOLM_JOB_TOKEN in both cases. None of them set: one process.
// Throws genolm::Error naming the variable and its value when one is malformed or out of range.
World world_from_environment();

}  // namespace genolm::dist
