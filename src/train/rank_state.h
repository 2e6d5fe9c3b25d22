#pragma once
// The per-rank steps the training session (train/session.h) builds on, as one rank of a
// data-parallel job (a single process is a job of one): the rank's device, rank 0's weights,
// resuming only when every rank has a checkpoint of the same step under the same world size, and
// when the session started.

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <filesystem>
#include <optional>
#include <string>

#include "dist/communicator.h"
#include "train/checkpoint.h"

namespace genolm::train {

// The job this run is a rank of; a world of one when the run has none (a single process).
dist::Communicator& job_communicator(dist::Communicator* comm);

// Moves `model` to this rank's device (`requested` is train.device; a GPU per local rank, see
// training_device) and returns that device.
torch::Device move_to_rank_device(torch::nn::Module& model, const std::string& requested,
                                  const dist::Communicator& comm);

// Every rank takes rank 0's parameters and buffers; ranks other than 0 then reseed the global
// generator (seed + rank), so their dropout masks differ while rank 0 keeps the single-process
// stream.
void share_initial_weights(torch::nn::Module& model, dist::Communicator& comm, std::uint64_t seed);

// Loads every rank's newest checkpoint into model and optimizer, with `state` filled; nothing
// (and `state` untouched) when no rank has one. Throws genolm::Error when only some ranks have
// checkpoints, the world size differs from the run's (state.world_size), or the ranks'
// newest steps differ.
std::optional<std::filesystem::path> resume_every_rank(
    const Checkpoints& checkpoints, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
    dist::Communicator& comm, const std::filesystem::path& run_dir, TrainingState& state);

// Now, in UTC ("2026-11-21 12:00:00 UTC"): when this session of a run started.
std::string utc_now_text();

}  // namespace genolm::train
