#pragma once
// The rendezvous handshake that keeps strangers out of a job. c10d's TCPStore admits any process
// that reaches rank 0's port, so before a process group is built on it every rank proves it holds
// the job token (dist/job_token.h) to rank 0, and rank 0 proves it to every rank.

#include <torch/csrc/distributed/c10d/Store.hpp>

#include <string>

#include "dist/world.h"

namespace genolm::dist {

// Runs the handshake for `world.rank` over `store`. Throws genolm::Error on the rank that finds a
// proof wrong (rank 0 names the rank that failed; a rank whose rendezvous failed its proof says
// so), and on the others once rank 0 has refused. `where` is the rendezvous address, for errors.
// Without a token (world.job_token empty) rank 0 warns that the job admits any peer.
void authenticate_ranks(c10d::Store& store, const World& world, const std::string& where);

}  // namespace genolm::dist
