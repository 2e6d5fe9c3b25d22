#include "train/rank_state.h"

#include <chrono>
#include <ctime>

#include "genolm/error.h"
#include "train/device.h"

namespace genolm::train {

dist::Communicator& job_communicator(dist::Communicator* comm) {
  static dist::Communicator single(dist::World{}, "gloo", std::chrono::seconds(1));
  return comm != nullptr ? *comm : single;
}

torch::Device move_to_rank_device(torch::nn::Module& model, const std::string& requested,
                                  const dist::Communicator& comm) {
  const torch::Device device = training_device(requested, comm.local_rank());
  model.to(device);
  return device;
}

void share_initial_weights(torch::nn::Module& model, dist::Communicator& comm, std::uint64_t seed) {
  if (comm.size() == 1) return;
  auto parameters = model.parameters();
  comm.broadcast(parameters, 0);
  auto buffers = model.buffers();
  if (!buffers.empty()) comm.broadcast(buffers, 0);
  if (comm.rank() > 0)
    torch::manual_seed(seed + 1000003u * static_cast<std::uint64_t>(comm.rank()));
}

std::optional<std::filesystem::path> resume_every_rank(
    const Checkpoints& checkpoints, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
    dist::Communicator& comm, const std::filesystem::path& run_dir, TrainingState& state) {
  const int rank = comm.rank(), ranks = comm.size();
  const auto latest = checkpoints.latest();
  const double found = comm.all_reduce_sum(latest ? 1.0 : 0.0);
  if (found != 0 && found != ranks) {
    throw Error("rank " + std::to_string(rank) + ": only some ranks have checkpoints in " +
                (run_dir / "checkpoints").string() + " (resume with the world size the run had)");
  }
  if (!latest) return std::nullopt;
  state = checkpoints.load(*latest, model, optimizer);
  const auto saved_ranks = state.world_size;
  if (saved_ranks != ranks) {
    throw Error("cannot resume " + run_dir.string() + " on " + std::to_string(ranks) +
                " rank(s): it was trained on " + std::to_string(saved_ranks) +
                " (each rank's data position and random state are in the checkpoints)");
  }
  if (comm.all_reduce_sum(static_cast<double>(state.step)) !=
      static_cast<double>(state.step) * ranks) {
    throw Error("rank " + std::to_string(rank) +
                ": the ranks' newest checkpoints are of different steps (a rank died while "
                "saving); delete the newest step-* file of every rank to resume from the one before");
  }
  return latest;
}

std::string utc_now_text() {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  return text;
}

}  // namespace genolm::train
