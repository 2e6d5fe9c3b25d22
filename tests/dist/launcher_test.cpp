// The launcher with shell scripts as workers: what each worker sees in its environment, and that a
// failing rank takes the job down quickly and completely (no orphans, no zombies).
#include "dist/launcher.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "support/test_files.h"

namespace genolm {
namespace {

using Clock = std::chrono::steady_clock;

// Every worker runs `script` with the test's temp folder as $1.
std::vector<std::string> shell(const std::string& script, const test::TempDir& dir) {
  return {"/bin/sh", "-c", script, "worker", dir.path().string()};
}

// Writes the worker's pid (after exec, that of what it runs) to $1/pid_$RANK, atomically.
constexpr const char* kWritePid =
    R"(echo $$ > "$1/tmp_$RANK" && mv "$1/tmp_$RANK" "$1/pid_$RANK"; )";

constexpr const char* kWriteEnvironment =
    R"(echo "RANK=$RANK WORLD_SIZE=$WORLD_SIZE LOCAL_RANK=$LOCAL_RANK )"
    R"(LOCAL_WORLD_SIZE=$LOCAL_WORLD_SIZE GROUP_RANK=$GROUP_RANK MASTER_ADDR=$MASTER_ADDR )"
    R"(MASTER_PORT=$MASTER_PORT" > "$1/env_$RANK"; echo "$OMP_NUM_THREADS" > "$1/omp_$RANK")";

std::string expected_environment(int rank, int world, int local, int local_world, int group,
                                 const std::string& addr, int port) {
  return "RANK=" + std::to_string(rank) + " WORLD_SIZE=" + std::to_string(world) +
         " LOCAL_RANK=" + std::to_string(local) +
         " LOCAL_WORLD_SIZE=" + std::to_string(local_world) +
         " GROUP_RANK=" + std::to_string(group) + " MASTER_ADDR=" + addr +
         " MASTER_PORT=" + std::to_string(port) + "\n";
}

pid_t read_pid(const test::TempDir& dir, int rank) {
  return static_cast<pid_t>(std::stol(test::read_text(dir / ("pid_" + std::to_string(rank)))));
}

bool alive(pid_t pid) {
  return kill(pid, 0) == 0 || errno == EPERM;
}

// The launcher reaped everything it started: this process has no child left, zombie or not.
void expect_no_children() {
  errno = 0;
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

// What a launch returned, how long it took, and what the launcher logged.
struct LaunchOutcome {
  int status;
  double seconds;
  std::string log;
};

LaunchOutcome launch_capturing_log(const dist::LaunchOptions& options,
                                   const std::vector<std::string>& argv) {
  testing::internal::CaptureStderr();
  const auto start = Clock::now();
  const int status = dist::launch(options, argv);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return {status, seconds, testing::internal::GetCapturedStderr()};
}

// Rank 0 fails with status 3 once rank 1 is up; rank 1 would sleep for 30 s.
constexpr const char* kRankZeroFailsOnceRankOneIsUp = R"(
    if [ "$RANK" = 0 ]; then
      while [ ! -f "$1/pid_1" ]; do sleep 0.01; done
      exit 3
    fi
    exec sleep 30)";

TEST(Launcher, EveryWorkerSeesItsRankAndTheMaster) {
  test::TempDir dir;
  // Inherited values must not leak through.
  setenv("LOCAL_RANK", "77", 1);
  unsetenv("OMP_NUM_THREADS");
  dist::LaunchOptions options;
  options.nproc = 3;
  options.master_addr = "node0.example";
  options.master_port = 29555;
  EXPECT_EQ(dist::launch(options, shell(kWriteEnvironment, dir)), 0);
  unsetenv("LOCAL_RANK");
  for (int rank = 0; rank < 3; ++rank) {
    EXPECT_EQ(test::read_text(dir / ("env_" + std::to_string(rank))),
              expected_environment(rank, 3, rank, 3, 0, "node0.example", 29555));
    EXPECT_EQ(test::read_text(dir / ("omp_" + std::to_string(rank))),
              std::to_string(dist::threads_per_worker(3)) + "\n");
  }
  EXPECT_GE(dist::threads_per_worker(3), 1);
  expect_no_children();
}

TEST(Launcher, KeepsOmpNumThreadsWhenSet) {
  test::TempDir dir;
  setenv("OMP_NUM_THREADS", "5", 1);
  dist::LaunchOptions options;
  options.nproc = 2;
  EXPECT_EQ(dist::launch(options, shell(kWriteEnvironment, dir)), 0);
  EXPECT_EQ(dist::threads_per_worker(2), 5);
  unsetenv("OMP_NUM_THREADS");
  EXPECT_EQ(test::read_text(dir / "omp_0"), "5\n");
  EXPECT_EQ(test::read_text(dir / "omp_1"), "5\n");
}

// The rendezvous admits only ranks holding the job token: a one-node launch draws one for its
// workers, fresh each time; one given in GENOLM_JOB_TOKEN (a multi-node job's) passes through.
TEST(Launcher, OneNodesWorkersShareAFreshJobToken) {
  test::TempDir dir;
  constexpr const char* kWriteToken = R"(echo "$GENOLM_JOB_TOKEN" > "$1/token_$RANK")";
  unsetenv("GENOLM_JOB_TOKEN");
  dist::LaunchOptions options;
  options.nproc = 2;
  ASSERT_EQ(dist::launch(options, shell(kWriteToken, dir)), 0);
  const auto first = test::read_text(dir / "token_0");
  EXPECT_EQ(first.size(), 65u) << first;  // 64 hex digits and a newline
  EXPECT_EQ(test::read_text(dir / "token_1"), first);
  ASSERT_EQ(dist::launch(options, shell(kWriteToken, dir)), 0);
  EXPECT_NE(test::read_text(dir / "token_0"), first);

  setenv("GENOLM_JOB_TOKEN", "site secret", 1);
  ASSERT_EQ(dist::launch(options, shell(kWriteToken, dir)), 0);
  unsetenv("GENOLM_JOB_TOKEN");
  EXPECT_EQ(test::read_text(dir / "token_1"), "site secret\n");
}

TEST(Launcher, TwoNodesNumberTheirRanksTogether) {
  test::TempDir dir;
  int results[2] = {-1, -1};
  std::vector<std::thread> nodes;
  for (int node = 0; node < 2; ++node) {
    nodes.emplace_back([&, node] {
      dist::LaunchOptions options;
      options.nproc = 2;
      options.nnodes = 2;
      options.node_rank = node;
      options.master_port = 29600;
      results[node] = dist::launch(options, shell(kWriteEnvironment, dir));
    });
  }
  for (auto& node : nodes)
    node.join();
  EXPECT_EQ(results[0], 0);
  EXPECT_EQ(results[1], 0);
  for (int rank = 0; rank < 4; ++rank) {
    EXPECT_EQ(test::read_text(dir / ("env_" + std::to_string(rank))),
              expected_environment(rank, 4, rank % 2, 2, rank / 2, "127.0.0.1", 29600));
  }
  expect_no_children();
}

TEST(Launcher, AFailingRankStopsTheOthers) {
  test::TempDir dir;
  dist::LaunchOptions options;
  options.nproc = 2;
  const auto outcome = launch_capturing_log(
      options, shell(std::string(kWritePid) + kRankZeroFailsOnceRankOneIsUp, dir));
  EXPECT_EQ(outcome.status, 3);
  EXPECT_LT(outcome.seconds, 5.0)
      << "the sleeping rank should end at SIGTERM, well within the grace";
  EXPECT_NE(outcome.log.find("rank 0 exited with status 3"), std::string::npos) << outcome.log;
  EXPECT_FALSE(alive(read_pid(dir, 1)));
  expect_no_children();
}

TEST(Launcher, AWorkerThatIgnoresSigtermIsKilledAfterTheGrace) {
  test::TempDir dir;
  dist::LaunchOptions options;
  options.nproc = 2;
  options.grace_seconds = 1;
  const auto outcome = launch_capturing_log(
      options,
      shell(R"(trap '' TERM; )" + std::string(kWritePid) + kRankZeroFailsOnceRankOneIsUp, dir));
  EXPECT_EQ(outcome.status, 3);
  EXPECT_GE(outcome.seconds, 1.0);
  EXPECT_LT(outcome.seconds, 5.0);
  EXPECT_NE(outcome.log.find("rank 1 did not stop within 1 s"), std::string::npos) << outcome.log;
  EXPECT_FALSE(alive(read_pid(dir, 1)));
  expect_no_children();
}

TEST(Launcher, AKilledWorkerGives128PlusTheSignal) {
  test::TempDir dir;
  dist::LaunchOptions options;
  const auto outcome = launch_capturing_log(options, shell("kill -KILL $$", dir));
  EXPECT_EQ(outcome.status, 128 + SIGKILL);
  EXPECT_NE(outcome.log.find("rank 0 was killed by signal 9"), std::string::npos) << outcome.log;
  expect_no_children();
}

TEST(Launcher, ForwardsSigtermToTheWorkers) {
  test::TempDir dir;
  dist::LaunchOptions options;
  options.nproc = 2;
  std::thread sender([&dir] {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (!(std::filesystem::exists(dir / "pid_0") && std::filesystem::exists(dir / "pid_1")) &&
           Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // The launcher's handler is in place from before its first fork until its return.
    kill(getpid(), SIGTERM);
  });
  const auto outcome =
      launch_capturing_log(options, shell(std::string(kWritePid) + "exec sleep 30", dir));
  sender.join();
  EXPECT_EQ(outcome.status, 128 + SIGTERM);
  EXPECT_LT(outcome.seconds, 5.0);
  EXPECT_FALSE(alive(read_pid(dir, 0)));
  EXPECT_FALSE(alive(read_pid(dir, 1)));
  expect_no_children();
}

TEST(Launcher, BadOptionsAreClearErrors) {
  const std::vector<std::string> worker = {"/bin/true"};
  const auto error = [&](auto change, const std::vector<std::string>& argv) {
    dist::LaunchOptions options;
    change(options);
    return test::error_of([&] { dist::launch(options, argv); });
  };
  EXPECT_NE(error([](auto& o) { o.nproc = 0; }, worker)
                .find("nproc (workers per node) must be at "
                      "least 1, got 0"),
            std::string::npos);
  EXPECT_NE(error(
                [](auto& o) {
                  o.nnodes = 2;
                  o.node_rank = 2;
                },
                worker)
                .find("node_rank 2 is out of range for 2 node(s) (expected 0 to 1)"),
            std::string::npos);
  EXPECT_NE(error([](auto& o) { o.master_port = 70000; }, worker)
                .find("master_port 70000 is out of range (expected 1 to 65535)"),
            std::string::npos);
  EXPECT_NE(error([](auto& o) { o.master_port = 0; }, worker).find("master_port 0"),
            std::string::npos);
  EXPECT_NE(error([](auto&) {}, {}).find("no worker command given"), std::string::npos);
  EXPECT_NE(error([](auto&) {}, {"/no/such/worker"})
                .find("cannot execute the worker '/no/such/worker': No such file or directory"),
            std::string::npos);
  expect_no_children();
}

}  // namespace
}  // namespace genolm
