#include "dist/communicator.h"

#include <torch/cuda.h>
#include <torch/types.h>
#include <torch/version.h>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

// PyTorch's pip wheels ship LibTorch without Gloo's headers (Gloo is linked in, its headers are
// not), so a build against them has no CPU backend for several processes; NCCL still works.
#if __has_include(<gloo/algorithm.h>)
#define GENOLM_HAVE_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#else
#define GENOLM_HAVE_GLOO 0
#endif

#ifdef USE_C10D_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <sstream>

#include "dist/store_authentication.h"
#include "genolm/error.h"

namespace genolm::dist {
namespace {

// LibTorch 2.0 split the process group into a front (ProcessGroup) and backends; Gloo and NCCL
// became c10d::Backend subclasses with the same collective calls as 1.13's ProcessGroup.
#if TORCH_VERSION_MAJOR >= 2
using BackendBase = c10d::Backend;
#else
using BackendBase = c10d::ProcessGroup;
#endif

#ifdef USE_C10D_NCCL
constexpr bool kHaveNccl = true;
#else
constexpr bool kHaveNccl = false;
#endif

std::string resolve_backend(const std::string& requested) {
  if (requested == "auto") return kHaveNccl && torch::cuda::is_available() ? "nccl" : "gloo";
  if (requested == "gloo" || requested == "nccl") return requested;
  throw Error("dist.backend '" + requested + "' is unknown (expected gloo, nccl or auto)");
}

// c10::Error carries a C++ backtrace after its message, and Gloo's messages may span lines; the
// CLI prints errors as one line.
std::string one_line(const std::exception& error) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&error);
  std::string text = c10_error != nullptr ? c10_error->what_without_backtrace() : error.what();
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!text.empty() && text.back() == ' ')
    text.pop_back();
  return text;
}

bool is_loopback(const std::string& address) {
  return address.rfind("127.", 0) == 0 || address == "localhost" || address == "::1";
}

#if GENOLM_HAVE_GLOO
// Which network interface Gloo binds to: GLOO_SOCKET_IFNAME (comma-separated) as in PyTorch; a
// loopback master means one machine, so loopback; otherwise this host's resolved address.
std::vector<std::shared_ptr<::gloo::transport::Device>> gloo_devices(const World& world) {
  std::vector<std::shared_ptr<::gloo::transport::Device>> devices;
  const char* interfaces = std::getenv("GLOO_SOCKET_IFNAME");
  if (interfaces != nullptr && *interfaces != '\0') {
    std::stringstream names(interfaces);
    for (std::string name; std::getline(names, name, ',');) {
      if (!name.empty()) devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
    }
  }
  if (devices.empty()) {
    devices.push_back(is_loopback(world.master_addr)
                          ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                          : c10d::ProcessGroupGloo::createDefaultDevice());
  }
  return devices;
}

c10::intrusive_ptr<BackendBase> make_gloo(const c10::intrusive_ptr<c10d::Store>& store,
                                          const World& world, std::chrono::milliseconds timeout) {
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  options->devices = gloo_devices(world);
  // The C++ constructor leaves `threads` uninitialised; two per device is PyTorch's choice.
  options->threads = static_cast<int>(options->devices.size()) * 2;
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, world.rank, world.size, options);
}
#endif

#ifdef USE_C10D_NCCL
c10::intrusive_ptr<BackendBase> make_nccl(const c10::intrusive_ptr<c10d::Store>& store,
                                          const World& world, std::chrono::milliseconds timeout) {
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, world.rank, world.size, options);
}
#endif

}  // namespace

struct Communicator::Group {
  c10::intrusive_ptr<c10d::Store> store;  // declared first: outlives the backend that uses it
  c10::intrusive_ptr<BackendBase> backend;
  torch::Device device{torch::kCPU};  // where scalars travel: NCCL reduces CUDA tensors only
};

Communicator::Communicator(const World& world, std::string backend, std::chrono::seconds timeout)
    : rank_(world.rank),
      size_(world.size),
      local_rank_(world.local_rank),
      backend_(resolve_backend(backend)),
      timeout_(timeout) {
  if (size_ <= 1) return;
  if (backend_ == "gloo" && !gloo_available()) {
    throw Error(
        "dist.backend 'gloo' is not available: this genolm was built against a LibTorch without "
        "Gloo's headers (PyTorch's pip wheels ship none), so it cannot run several CPU processes; "
        "use dist.backend = \"nccl\" on GPUs, or build against a LibTorch with Gloo (Debian's)");
  }
  if (backend_ == "nccl" && !kHaveNccl) {
    throw Error(
        "dist.backend 'nccl' is not available: this LibTorch was built without NCCL "
        "(use 'gloo' or 'auto')");
  }
  const std::string where = world.master_addr + ":" + std::to_string(world.master_port);
  group_ = std::make_unique<Group>();
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(world.master_port);
    options.isServer = rank_ == 0;
    options.numWorkers = static_cast<std::size_t>(size_);
    options.timeout = timeout;
    group_->store = c10::make_intrusive<c10d::TCPStore>(world.master_addr, options);
  } catch (const std::exception& e) {
    throw Error("rank " + std::to_string(rank_) + ": could not meet the other " +
                std::to_string(size_ - 1) + " rank(s) at " + where + " within " +
                std::to_string(timeout.count()) +
                " s (rank 0 hosts the rendezvous there; are all ranks started with the same "
                "MASTER_ADDR and MASTER_PORT?): " +
                one_line(e));
  }
  try {
    authenticate_ranks(*group_->store, world, where);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(
        "rank " + std::to_string(rank_) + ": the rendezvous at " + where +
        " broke off while the ranks proved the job token (another rank failed?): " + one_line(e));
  }
  try {
    if (backend_ == "gloo") {
#if GENOLM_HAVE_GLOO
      group_->backend = make_gloo(group_->store, world, timeout);
#endif
    } else {
#ifdef USE_C10D_NCCL
      // One GPU per local rank; NCCL finds its device from the tensors, scalars need one here.
      const int index = world.local_rank % std::max<int>(1, c10::cuda::device_count());
      c10::cuda::set_device(static_cast<c10::DeviceIndex>(index));
      group_->device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
      group_->backend = make_nccl(group_->store, world, timeout);
#endif
    }
  } catch (const std::exception& e) {
    throw Error("rank " + std::to_string(rank_) + ": could not set up the " + backend_ +
                " process group of " + std::to_string(size_) + " ranks via " + where + ": " +
                one_line(e));
  }
}

Communicator::~Communicator() = default;

bool gloo_available() {
  return GENOLM_HAVE_GLOO != 0;
}

template <typename Op>
void Communicator::flattened(std::vector<torch::Tensor>& tensors, Op op) {
  torch::NoGradGuard no_grad;  // parameters are leaves that require grad: in-place needs this
  std::vector<bool> done(tensors.size(), false);
  for (std::size_t first = 0; first < tensors.size(); ++first) {
    if (done[first]) continue;
    if (!tensors[first].defined()) {
      throw Error("rank " + std::to_string(rank_) + ": tensor " + std::to_string(first) +
                  " handed to a collective is undefined");
    }
    std::vector<std::size_t> members;
    std::vector<torch::Tensor> parts;
    for (std::size_t i = first; i < tensors.size(); ++i) {
      if (done[i] || !tensors[i].defined()) continue;
      if (tensors[i].scalar_type() != tensors[first].scalar_type() ||
          tensors[i].device() != tensors[first].device()) {
        continue;
      }
      done[i] = true;
      members.push_back(i);
      parts.push_back(tensors[i].reshape({-1}));
    }
    // Where this backend reduces: NCCL takes CUDA tensors only, so a CPU scalar travels there.
    auto flat = torch::cat(parts).to(group_->device);
    if (flat.numel() == 0) continue;
    op(flat);
    std::int64_t offset = 0;
    for (const std::size_t i : members) {
      const auto numel = tensors[i].numel();
      tensors[i].copy_(flat.narrow(0, offset, numel).view(tensors[i].sizes()));
      offset += numel;
    }
  }
}

void Communicator::broadcast(std::vector<torch::Tensor>& tensors, int root) {
  if (size_ <= 1) return;
  if (root < 0 || root >= size_) {
    throw Error("broadcast root " + std::to_string(root) + " is out of range for " +
                std::to_string(size_) + " ranks");
  }
  flattened(tensors, [&](torch::Tensor& flat) {
    std::vector<torch::Tensor> one{flat};
    c10d::BroadcastOptions options;
    options.rootRank = root;
    wait(group_->backend->broadcast(one, options), "broadcast");
  });
}

c10::intrusive_ptr<c10d::Work> Communicator::all_reduce_async(torch::Tensor& flat) {
  if (size_ <= 1) return {};
  std::vector<torch::Tensor> one{flat};
  c10d::AllreduceOptions options;
  options.reduceOp = c10d::ReduceOp::SUM;
  try {
    return group_->backend->allreduce(one, options);
  } catch (const std::exception& e) {
    throw Error("rank " + std::to_string(rank_) + ": could not start an all-reduce of " +
                std::to_string(flat.numel()) + " values: " + one_line(e));
  }
}

void Communicator::all_reduce_sum(std::vector<torch::Tensor>& tensors) {
  if (size_ <= 1) return;
  flattened(tensors, [&](torch::Tensor& flat) { wait(all_reduce_async(flat), "all-reduce"); });
}

double Communicator::all_reduce_sum(double value) {
  if (size_ <= 1) return value;
  auto tensor =
      torch::full({1}, value, torch::TensorOptions(torch::kFloat64).device(group_->device));
  wait(all_reduce_async(tensor), "all-reduce of a scalar");
  return tensor.item<double>();
}

void Communicator::barrier() {
  if (size_ <= 1) return;
  c10::intrusive_ptr<c10d::Work> work;
  try {
    work = group_->backend->barrier(c10d::BarrierOptions());
  } catch (const std::exception& e) {
    throw Error("rank " + std::to_string(rank_) + ": could not start a barrier: " + one_line(e));
  }
  wait(work, "barrier");
}

void Communicator::wait(const c10::intrusive_ptr<c10d::Work>& work, std::string_view what) {
  if (!work) return;
  const auto start = std::chrono::steady_clock::now();
  std::optional<std::string> failure;
  try {
    work->wait();
  } catch (const std::exception& e) {
    failure = one_line(e);
  }
  waiting_ += std::chrono::steady_clock::now() - start;
  if (failure) {
    throw Error("rank " + std::to_string(rank_) + ": lost contact with the other ranks during " +
                std::string(what) + " (a rank died, or hung beyond dist.timeout of " +
                std::to_string(timeout_.count()) + " s): " + *failure);
  }
}

}  // namespace genolm::dist
