#pragma once
// A torchrun-style launcher: starts one worker process per local rank with the environment that
// process groups read (RANK, WORLD_SIZE, MASTER_ADDR, ...), watches them, and takes the whole job
// down when one fails, so a crashed rank never leaves the others hanging in a collective.
// POSIX only, no LibTorch: the workers load it, the launcher does not need to.

#include <string>
#include <vector>

namespace genolm::dist {

struct LaunchOptions {
  int nproc = 1;      // workers on this node
  int nnodes = 1;     // nodes in the job, each running its own launcher
  int node_rank = 0;  // this node's index, 0 .. nnodes-1
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  double grace_seconds = 10;  // after SIGTERM, how long workers get before SIGKILL
};

// Starts options.nproc copies of `worker_argv` (argv[0] is the executable's path; no shell, no
// PATH search) and waits for all of them. Returns 0 when every worker exits 0; otherwise the first
// failing rank's exit status (128 + signal when it was killed), after the other workers were sent
// SIGTERM, given grace_seconds, then SIGKILLed and reaped. SIGINT and SIGTERM sent to the launcher
// are forwarded to the workers. Bad options throw genolm::Error.
int launch(const LaunchOptions& options, const std::vector<std::string>& worker_argv);

// Threads each of `nproc` workers should use: OMP_NUM_THREADS when it is set to a positive number,
// else the cores this process may run on divided among the workers (at least 1).
int threads_per_worker(int nproc);

}  // namespace genolm::dist
