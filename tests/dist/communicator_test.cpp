// Two ranks as two threads of this process, each with its own Communicator, talking Gloo over
// loopback: collectives, the environment a launcher sets, and the gradient reducer checked
// against the same model trained on the whole batch in one process.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <torch/torch.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dist/communicator.h"
#include "dist/gradient_reducer.h"
#include "dist/world.h"
#include "genolm/error.h"
#include "support/genolm_process.h"
#include "support/gloo.h"

namespace genolm::dist {
namespace {

using std::chrono::seconds;
using test::free_port;

// Runs body(rank, communicator) for ranks 0 and 1 side by side on `port`, rank r holding
// tokens[r]; returns each rank's error message ("" when it finished).
template <typename Body>
std::array<std::string, 2> run_two_ranks(Body body, int port, seconds timeout,
                                         const std::array<std::string, 2>& tokens) {
  std::array<std::string, 2> errors;
  std::vector<std::thread> threads;
  for (int rank = 0; rank < 2; ++rank) {
    threads.emplace_back([&, rank] {
      try {
        World world;
        world.rank = rank;
        world.size = 2;
        world.master_port = port;
        world.job_token = tokens[rank];
        Communicator communicator(world, "gloo", timeout);
        body(rank, communicator);
      } catch (const std::exception& e) {
        errors[rank] = e.what();
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  return errors;
}

// As run_two_ranks, with one token for both; an exception on a rank fails the test with its
// message.
template <typename Body>
void two_ranks(Body body, seconds timeout = seconds(20), const std::string& job_token = "") {
  const auto errors = run_two_ranks(body, free_port(), timeout, {job_token, job_token});
  for (int rank = 0; rank < 2; ++rank)
    EXPECT_EQ(errors[rank], "") << "rank " << rank;
}

// c10d's store admits anyone who reaches the port: a rank without the job's token is refused
// before any process group exists, and both sides say why.
TEST(Communicator, ARankWithoutTheJobsTokenIsRefused) {
  GENOLM_REQUIRE_GLOO();
  const int port = free_port();
  const auto errors =
      run_two_ranks([](int, Communicator&) {}, port, seconds(20), {"the job's secret", "a guess"});
  EXPECT_NE(errors[1].find("rank 1: the rendezvous at 127.0.0.1:" + std::to_string(port) +
                           " did not prove this job's token (GENOLM_JOB_TOKEN)"),
            std::string::npos)
      << errors[1];
  EXPECT_NE(errors[0].find("rank 0: a process joining as rank 1 at 127.0.0.1:" +
                           std::to_string(port) + " did not present this job's token"),
            std::string::npos)
      << errors[0];
}

TEST(Communicator, RanksWithTheSameTokenFormTheJob) {
  GENOLM_REQUIRE_GLOO();
  setenv("GENOLM_JOB_TOKEN", "shared", 1);
  setenv("RANK", "0", 1);
  setenv("WORLD_SIZE", "2", 1);
  const auto world = world_from_environment();
  for (const char* name : {"GENOLM_JOB_TOKEN", "RANK", "WORLD_SIZE"})
    unsetenv(name);
  EXPECT_EQ(world.job_token, "shared");
  two_ranks(
      [](int, Communicator& communicator) { EXPECT_EQ(communicator.all_reduce_sum(1.0), 2.0); },
      seconds(20), world.job_token);
}

TEST(Communicator, BroadcastCopiesTheRootsTensorsInPlace) {
  GENOLM_REQUIRE_GLOO();
  two_ranks([](int rank, Communicator& communicator) {
    EXPECT_EQ(communicator.rank(), rank);
    EXPECT_EQ(communicator.size(), 2);
    auto matrix = rank == 0 ? torch::arange(6, torch::kFloat32).view({2, 3}) : torch::zeros({2, 3});
    auto ids = rank == 0 ? torch::tensor({7, 8}, torch::kInt64) : torch::zeros({2}, torch::kInt64);
    auto strided =
        rank == 0 ? torch::arange(6, torch::kFloat32).view({3, 2}).t() : torch::zeros({3, 2}).t();
    std::vector<torch::Tensor> tensors{matrix, ids, strided};
    communicator.broadcast(tensors);
    EXPECT_TRUE(torch::equal(matrix, torch::arange(6, torch::kFloat32).view({2, 3})));
    EXPECT_TRUE(torch::equal(ids, torch::tensor({7, 8}, torch::kInt64)));
    EXPECT_TRUE(torch::equal(strided, torch::arange(6, torch::kFloat32).view({3, 2}).t()));

    std::vector<torch::Tensor> from_one{torch::full({2}, static_cast<float>(rank))};
    communicator.broadcast(from_one, 1);
    EXPECT_TRUE(torch::equal(from_one[0], torch::full({2}, 1.0f)));
  });
}

TEST(Communicator, AllReduceSumsDoublesAndTensors) {
  GENOLM_REQUIRE_GLOO();
  two_ranks([](int rank, Communicator& communicator) {
    EXPECT_DOUBLE_EQ(communicator.all_reduce_sum(rank + 1.5), 4.0);
    std::vector<torch::Tensor> tensors{torch::full({3}, rank + 1.0f),
                                       torch::full({2, 2}, (rank + 1) * 10, torch::kInt64)};
    communicator.all_reduce_sum(tensors);
    EXPECT_TRUE(torch::equal(tensors[0], torch::full({3}, 3.0f)));
    EXPECT_TRUE(torch::equal(tensors[1], torch::full({2, 2}, 30, torch::kInt64)));

    auto flat = torch::full({5}, static_cast<float>(rank));
    communicator.wait(communicator.all_reduce_async(flat));
    EXPECT_TRUE(torch::equal(flat, torch::ones({5})));
    communicator.barrier();
    EXPECT_GT(communicator.waiting_time().count(), 0.0);
  });
}

TEST(Communicator, OneProcessMakesEveryCallANoOp) {
  Communicator communicator(World{}, "auto", seconds(1));
  EXPECT_EQ(communicator.size(), 1);
  std::vector<torch::Tensor> tensors{torch::ones({2})};
  communicator.broadcast(tensors);
  communicator.all_reduce_sum(tensors);
  EXPECT_TRUE(torch::equal(tensors[0], torch::ones({2})));
  EXPECT_DOUBLE_EQ(communicator.all_reduce_sum(2.5), 2.5);
  auto work = communicator.all_reduce_async(tensors[0]);
  EXPECT_FALSE(work);
  communicator.wait(work);
  communicator.barrier();
  EXPECT_EQ(communicator.waiting_time().count(), 0.0);
}

TEST(Communicator, RejectsAnUnknownBackend) {
  try {
    Communicator communicator(World{}, "mpi", seconds(1));
    FAIL() << "expected genolm::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'mpi'"), std::string::npos) << e.what();
  }
}

TEST(Communicator, ADeadPeerBecomesAClearErrorAfterTheTimeout) {
  GENOLM_REQUIRE_GLOO();
  std::promise<void> rank0_done;
  auto released = rank0_done.get_future().share();
  two_ranks(
      [&](int rank, Communicator& communicator) {
        if (rank == 1) {  // joins the group, then never takes part in the all-reduce
          released.wait();
          return;
        }
        auto flat = torch::ones({16});
        const auto start = std::chrono::steady_clock::now();
        try {
          communicator.wait(communicator.all_reduce_async(flat), "the gradient all-reduce");
          ADD_FAILURE() << "expected genolm::Error";
        } catch (const Error& e) {
          const std::string message = e.what();
          EXPECT_NE(message.find("rank 0: lost contact with the other ranks during the gradient "
                                 "all-reduce (a rank died, or hung beyond dist.timeout of 2 s)"),
                    std::string::npos)
              << message;
        }
        const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
        EXPECT_LT(elapsed.count(), 8.0);
        EXPECT_GT(communicator.waiting_time().count(), 1.0);
        rank0_done.set_value();
      },
      seconds(2));
}

// ---------------------------------------------------------------------------------------------
// The environment a launcher sets.

const std::vector<std::string> kLaunchVariables = {"RANK",
                                                   "WORLD_SIZE",
                                                   "LOCAL_RANK",
                                                   "LOCAL_WORLD_SIZE",
                                                   "MASTER_ADDR",
                                                   "MASTER_PORT",
                                                   "SLURM_PROCID",
                                                   "SLURM_NTASKS",
                                                   "SLURM_LOCALID",
                                                   "SLURM_NTASKS_PER_NODE",
                                                   "SLURM_TASKS_PER_NODE"};

// Clears the launch variables for the test and puts the originals back afterwards.
class Environment : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& name : kLaunchVariables) {
      if (const char* value = std::getenv(name.c_str())) saved_[name] = value;
      ::unsetenv(name.c_str());
    }
  }
  void TearDown() override {
    for (const auto& name : kLaunchVariables)
      ::unsetenv(name.c_str());
    for (const auto& [name, value] : saved_)
      ::setenv(name.c_str(), value.c_str(), 1);
  }
  static void set(const char* name, const char* value) { ::setenv(name, value, 1); }
  static void expect_error(const std::vector<std::string>& fragments) {
    try {
      world_from_environment();
      ADD_FAILURE() << "expected genolm::Error";
    } catch (const Error& e) {
      for (const auto& fragment : fragments) {
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
      }
    }
  }

 private:
  std::map<std::string, std::string> saved_;
};

TEST_F(Environment, NoVariablesMeansOneProcess) {
  const World world = world_from_environment();
  EXPECT_EQ(world.rank, 0);
  EXPECT_EQ(world.size, 1);
  EXPECT_FALSE(world.distributed());
  EXPECT_EQ(world.master_addr, "127.0.0.1");
  EXPECT_EQ(world.master_port, 29500);
}

TEST_F(Environment, ReadsTorchrun) {
  set("RANK", "5");
  set("WORLD_SIZE", "8");
  set("LOCAL_RANK", "1");
  set("LOCAL_WORLD_SIZE", "4");
  set("MASTER_ADDR", "node7");
  set("MASTER_PORT", "1234");
  set("SLURM_PROCID", "0");  // torchrun inside a SLURM job: torchrun's variables win
  const World world = world_from_environment();
  EXPECT_EQ(world.rank, 5);
  EXPECT_EQ(world.size, 8);
  EXPECT_EQ(world.local_rank, 1);
  EXPECT_EQ(world.local_size, 4);
  EXPECT_EQ(world.master_addr, "node7");
  EXPECT_EQ(world.master_port, 1234);
  EXPECT_TRUE(world.distributed());
}

TEST_F(Environment, ReadsSlurm) {
  set("SLURM_PROCID", "4");
  set("SLURM_NTASKS", "6");
  set("SLURM_LOCALID", "1");
  set("SLURM_TASKS_PER_NODE", "3(x2)");
  set("MASTER_ADDR", "10.0.0.2");
  World world = world_from_environment();
  EXPECT_EQ(world.rank, 4);
  EXPECT_EQ(world.size, 6);
  EXPECT_EQ(world.local_rank, 1);
  EXPECT_EQ(world.local_size, 3);
  EXPECT_EQ(world.master_addr, "10.0.0.2");
  EXPECT_EQ(world.master_port, 29500);

  set("SLURM_NTASKS_PER_NODE", "2");  // preferred over SLURM_TASKS_PER_NODE
  world = world_from_environment();
  EXPECT_EQ(world.local_size, 2);
}

TEST_F(Environment, RejectsMalformedValuesNamingTheVariable) {
  set("RANK", "one");
  set("WORLD_SIZE", "2");
  expect_error({"RANK='one'", "not an integer"});
  set("RANK", "2");
  expect_error({"RANK=2", "WORLD_SIZE=2", "out of range"});
  set("RANK", "-1");
  expect_error({"RANK=-1", "out of range"});
  set("RANK", "1");
  set("WORLD_SIZE", "2 ");
  expect_error({"WORLD_SIZE='2 '", "not an integer"});
  set("WORLD_SIZE", "2");
  set("MASTER_PORT", "70000");
  expect_error({"MASTER_PORT=70000"});
  ::unsetenv("MASTER_PORT");
  ::unsetenv("WORLD_SIZE");
  expect_error({"WORLD_SIZE is not set"});
  ::unsetenv("RANK");

  set("SLURM_PROCID", "0");
  set("SLURM_NTASKS", "4");
  set("SLURM_TASKS_PER_NODE", "(x2)");
  expect_error({"SLURM_TASKS_PER_NODE='(x2)'"});
  set("SLURM_TASKS_PER_NODE", "2(x2)");
  set("SLURM_LOCALID", "3");
  expect_error({"SLURM_LOCALID=3", "SLURM_TASKS_PER_NODE=2"});
}

// ---------------------------------------------------------------------------------------------
// The gradient reducer against one process that sees the whole batch.

struct Net {
  torch::nn::Sequential layers;
  torch::nn::Linear spare{3, 3};  // in the parameter list, never in the forward pass

  Net() {
    torch::manual_seed(0);  // built on the main thread: every copy starts the same
    layers =
        torch::nn::Sequential(torch::nn::Linear(8, 4), torch::nn::Tanh(), torch::nn::Linear(4, 3));
    spare = torch::nn::Linear(3, 3);
  }
  torch::Tensor loss(const torch::Tensor& x, const torch::Tensor& y) {
    return torch::mse_loss(layers->forward(x), y);  // a mean over the rows it is given
  }
  std::vector<torch::Tensor> parameters(bool with_spare = false) {
    auto all = layers->parameters();
    if (with_spare) {
      for (auto& p : spare->parameters())
        all.push_back(p);
    }
    return all;
  }
  void clear_grads() {
    for (auto& p : parameters(true))
      p.mutable_grad().reset();
  }
};

struct Batch {
  torch::Tensor x, y;
  Batch() {
    torch::manual_seed(1);
    x = torch::randn({8, 8});
    y = torch::randn({8, 3});
  }
  // Rank r's half of the batch, optionally one of its two micro-batches.
  torch::Tensor rows(const torch::Tensor& t, int rank, int part = -1) const {
    return part < 0 ? t.narrow(0, 4 * rank, 4) : t.narrow(0, 4 * rank + 2 * part, 2);
  }
};

std::vector<torch::Tensor> grads_of(const std::vector<torch::Tensor>& parameters) {
  std::vector<torch::Tensor> grads;
  for (const auto& p : parameters)
    grads.push_back(p.grad().defined() ? p.grad().clone() : p.grad());
  return grads;
}

void expect_grads(const std::vector<torch::Tensor>& actual,
                  const std::vector<torch::Tensor>& expected, int rank) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    ASSERT_TRUE(actual[i].defined()) << "rank " << rank << " parameter " << i;
    EXPECT_TRUE(torch::allclose(actual[i], expected[i], /*rtol=*/0, /*atol=*/1e-6))
        << "rank " << rank << " parameter " << i << "\n"
        << actual[i] << "\nexpected\n"
        << expected[i];
  }
}

TEST(GradientReducer, AveragedGradientsEqualTheWholeBatchGradient) {
  GENOLM_REQUIRE_GLOO();
  const Batch batch;
  Net reference;
  std::vector<std::vector<torch::Tensor>> expected;
  for (int step = 0; step < 2; ++step) {  // step 1 uses the batch backwards
    reference.clear_grads();
    const auto x = step == 0 ? batch.x : batch.x.flip(0);
    reference.loss(x, batch.y).backward();
    expected.push_back(grads_of(reference.parameters()));
  }
  std::array<Net, 2> nets;
  two_ranks([&](int rank, Communicator& communicator) {
    auto& net = nets[rank];
    GradientReducer reducer(net.parameters(), communicator, /*bucket_bytes=*/64);
    EXPECT_EQ(reducer.bucket_count(), 3u);  // {b2, W2}, {b1}, {W1}
    for (int step = 0; step < 2; ++step) {
      net.clear_grads();
      const auto x = step == 0 ? batch.x : batch.x.flip(0);
      reducer.prepare(true);
      net.loss(batch.rows(x, rank), batch.rows(batch.y, rank)).backward();
      reducer.finish();
      expect_grads(grads_of(net.parameters()), expected[step], rank);
    }
  });
}

TEST(GradientReducer, AccumulatesMicroBatchesLocallyThenAverages) {
  GENOLM_REQUIRE_GLOO();
  const Batch batch;
  Net reference;
  for (int rank = 0; rank < 2; ++rank) {
    for (int part = 0; part < 2; ++part) {
      reference.loss(batch.rows(batch.x, rank, part), batch.rows(batch.y, rank, part)).backward();
    }
  }
  std::vector<torch::Tensor> expected;
  for (const auto& g : grads_of(reference.parameters()))
    expected.push_back(g / 2);

  std::array<Net, 2> nets;
  two_ranks([&](int rank, Communicator& communicator) {
    auto& net = nets[rank];
    GradientReducer reducer(net.parameters(), communicator, /*bucket_bytes=*/64);
    for (int part = 0; part < 2; ++part) {
      reducer.prepare(/*sync=*/part == 1);
      net.loss(batch.rows(batch.x, rank, part), batch.rows(batch.y, rank, part)).backward();
    }
    reducer.finish();
    expect_grads(grads_of(net.parameters()), expected, rank);
  });
}

TEST(GradientReducer, FrozenParametersKeepNoGradUnusedOnesGetZerosAndUnfreezingWorks) {
  GENOLM_REQUIRE_GLOO();
  const Batch batch;
  Net reference;
  auto frozen_bias = [](Net& net) { return net.layers[0]->as<torch::nn::Linear>()->bias; };
  frozen_bias(reference).requires_grad_(false);
  reference.loss(batch.x, batch.y).backward();
  const auto expected_frozen = grads_of(reference.parameters());
  reference.clear_grads();
  frozen_bias(reference).requires_grad_(true);
  reference.loss(batch.x, batch.y).backward();
  const auto expected_unfrozen = grads_of(reference.parameters());

  std::array<Net, 2> nets;
  two_ranks([&](int rank, Communicator& communicator) {
    auto& net = nets[rank];
    frozen_bias(net).requires_grad_(false);
    GradientReducer reducer(net.parameters(/*with_spare=*/true), communicator, 64);
    reducer.prepare(true);
    net.loss(batch.rows(batch.x, rank), batch.rows(batch.y, rank)).backward();
    reducer.finish();
    auto grads = grads_of(net.parameters());
    EXPECT_FALSE(grads[1].defined()) << "rank " << rank;
    auto expected = expected_frozen;  // compare the others
    grads[1] = expected[1] = torch::zeros({4});
    expect_grads(grads, expected, rank);
    for (const auto& p : net.spare->parameters()) {
      ASSERT_TRUE(p.grad().defined());
      EXPECT_TRUE(torch::equal(p.grad(), torch::zeros_like(p)));
    }

    net.clear_grads();
    frozen_bias(net).requires_grad_(true);
    reducer.prepare(true);
    net.loss(batch.rows(batch.x, rank), batch.rows(batch.y, rank)).backward();
    reducer.finish();
    expect_grads(grads_of(net.parameters()), expected_unfrozen, rank);
  });
}

TEST(GradientReducer, OneProcessLeavesGradientsAlone) {
  Net net;
  Communicator communicator(World{}, "gloo", seconds(1));
  GradientReducer reducer(net.parameters(), communicator);
  reducer.prepare(true);
  const Batch batch;
  net.loss(batch.x, batch.y).backward();
  const auto before = grads_of(net.parameters());
  reducer.finish();
  const auto after = grads_of(net.parameters());
  for (std::size_t i = 0; i < before.size(); ++i)
    EXPECT_TRUE(torch::equal(before[i], after[i]));
}

}  // namespace
}  // namespace genolm::dist
