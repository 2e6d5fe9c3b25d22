#include "dist/launcher.h"

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string_view>
#include <thread>

#include "dist/job_token.h"
#include "genolm/error.h"
#include "util/log.h"

extern char** environ;

namespace genolm::dist {
namespace {

using Clock = std::chrono::steady_clock;

// How often the launcher looks at its workers. Polling each worker's pid (not waitpid(-1)) keeps
// the launcher from reaping children that are not its own, e.g. those of a second launch() running
// in another thread; 10 ms is far below anything a user notices and costs nothing.
constexpr auto kPollInterval = std::chrono::milliseconds(10);

// --- Forwarding SIGINT and SIGTERM ------------------------------------------------------------
// The handler only counts (async-signal-safe); the launch loop sends each new signal on to its
// workers. Counters rather than a flag let several launch() calls in one process each see every
// signal, and the handlers stay installed while any of them runs.
constexpr int kForwarded[] = {SIGINT, SIGTERM};
std::atomic<unsigned> received[2] = {0, 0};
static_assert(std::atomic<unsigned>::is_always_lock_free);

std::mutex handlers_mutex;
int handler_users = 0;
struct sigaction previous_handlers[2]{};

void count_signal(int signal) {
  for (int i = 0; i < 2; ++i) {
    if (signal == kForwarded[i]) received[i].fetch_add(1);
  }
}

class ForwardSignals {
 public:
  ForwardSignals() {
    std::lock_guard lock(handlers_mutex);
    if (handler_users++ > 0) return;
    struct sigaction action {};
    action.sa_handler = count_signal;
    sigemptyset(&action.sa_mask);
    for (int i = 0; i < 2; ++i)
      sigaction(kForwarded[i], &action, &previous_handlers[i]);
  }
  ~ForwardSignals() {
    std::lock_guard lock(handlers_mutex);
    if (--handler_users > 0) return;
    for (int i = 0; i < 2; ++i)
      sigaction(kForwarded[i], &previous_handlers[i], nullptr);
  }
  ForwardSignals(const ForwardSignals&) = delete;
  ForwardSignals& operator=(const ForwardSignals&) = delete;
};

// Blocks SIGINT and SIGTERM in this thread for its lifetime: around fork(), so that a child never
// runs the launcher's handler (which would swallow the signal) before it resets its own.
class BlockForwardedSignals {
 public:
  BlockForwardedSignals() {
    sigset_t set;
    sigemptyset(&set);
    for (int signal : kForwarded)
      sigaddset(&set, signal);
    pthread_sigmask(SIG_BLOCK, &set, &previous_);
  }
  ~BlockForwardedSignals() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  BlockForwardedSignals(const BlockForwardedSignals&) = delete;
  BlockForwardedSignals& operator=(const BlockForwardedSignals&) = delete;

 private:
  sigset_t previous_;
};

// --- Workers ----------------------------------------------------------------------------------

struct Worker {
  int rank = 0;
  pid_t pid = -1;
  bool running = false;
};

// Exit status as a shell reports it: the code, or 128 + the signal that killed the process.
int exit_code(int status) {
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

std::string describe(int rank, int status) {
  if (WIFSIGNALED(status)) {
    return "rank " + std::to_string(rank) + " was killed by signal " +
           std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  }
  return "rank " + std::to_string(rank) + " exited with status " +
         std::to_string(WEXITSTATUS(status));
}

// The workers of one launch. Whatever happens (an exception included), none outlives it: the
// destructor kills and reaps those still running, so the launcher leaves no orphans or zombies.
class WorkerSet {
 public:
  ~WorkerSet() {
    for (auto& worker : workers_) {
      if (!worker.running) continue;
      kill(worker.pid, SIGKILL);
      wait_blocking(worker);
    }
  }

  void add(int rank, pid_t pid) { workers_.push_back({rank, pid, true}); }

  bool any_running() const {
    for (const auto& worker : workers_) {
      if (worker.running) return true;
    }
    return false;
  }

  void signal_running(int signal) {
    for (auto& worker : workers_) {
      if (worker.running) kill(worker.pid, signal);
    }
  }

  // Reaps the workers that have ended; returns (rank, status) of each.
  std::vector<std::pair<int, int>> reap_ended() {
    std::vector<std::pair<int, int>> ended;
    for (auto& worker : workers_) {
      if (!worker.running) continue;
      int status = 0;
      const pid_t done = waitpid(worker.pid, &status, WNOHANG);
      // ECHILD: someone else reaped it (SIGCHLD ignored); its status is lost, count it as ended.
      if (done == worker.pid || (done < 0 && errno == ECHILD)) {
        worker.running = false;
        ended.emplace_back(worker.rank, done == worker.pid ? status : 0);
      }
    }
    return ended;
  }

  // Waits up to `seconds` for the running workers to end on their own (a peer's death makes the
  // others fail fast with their own message, naming their rank), reaping those that do.
  void let_finish(double seconds) {
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(seconds));
    while (any_running() && Clock::now() < deadline) {
      for (const auto& [rank, status] : reap_ended())
        log("launch")->debug("{} on its own", describe(rank, status));
      std::this_thread::sleep_for(kPollInterval);
    }
  }

  // SIGTERM to every running worker, `grace` for them to end, then SIGKILL; reaps all.
  void stop(double grace_seconds) {
    signal_running(SIGTERM);
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(grace_seconds));
    while (true) {
      for (const auto& [rank, status] : reap_ended()) {
        log("launch")->debug("{} after the launcher stopped it", describe(rank, status));
      }
      if (!any_running() || Clock::now() >= deadline) break;
      std::this_thread::sleep_for(kPollInterval);
    }
    for (auto& worker : workers_) {
      if (!worker.running) continue;
      log("launch")->warn("rank {} did not stop within {} s of SIGTERM: killing it", worker.rank,
                          grace_seconds);
      kill(worker.pid, SIGKILL);
      wait_blocking(worker);
    }
  }

 private:
  static void wait_blocking(Worker& worker) {
    int status = 0;
    while (waitpid(worker.pid, &status, 0) < 0 && errno == EINTR) {
    }
    worker.running = false;
  }

  std::vector<Worker> workers_;
};

// --- Starting a worker ------------------------------------------------------------------------

bool has_name(std::string_view entry, std::string_view name) {
  return entry.size() > name.size() && entry.substr(0, name.size()) == name &&
         entry[name.size()] == '=';
}

// This process's environment with torchrun's variables for one worker in place of any inherited,
// and `job_token` (when not empty) as GENOLM_JOB_TOKEN.
std::vector<std::string> worker_environment(const LaunchOptions& options, int local_rank,
                                            const std::string& job_token) {
  const std::vector<std::pair<std::string, std::string>> set = {
      {"RANK", std::to_string(options.node_rank * options.nproc + local_rank)},
      {"WORLD_SIZE", std::to_string(options.nnodes * options.nproc)},
      {"LOCAL_RANK", std::to_string(local_rank)},
      {"LOCAL_WORLD_SIZE", std::to_string(options.nproc)},
      {"GROUP_RANK", std::to_string(options.node_rank)},
      {"MASTER_ADDR", options.master_addr},
      {"MASTER_PORT", std::to_string(options.master_port)},
  };
  std::vector<std::string> environment;
  bool has_omp_threads = false;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text = *entry;
    has_omp_threads = has_omp_threads || has_name(text, "OMP_NUM_THREADS");
    bool replaced = false;
    for (const auto& [name, value] : set)
      replaced = replaced || has_name(text, name);
    if (!replaced) environment.emplace_back(text);
  }
  for (const auto& [name, value] : set)
    environment.push_back(name + "=" + value);
  if (!job_token.empty()) environment.push_back(std::string(kJobTokenVariable) + "=" + job_token);
  // Without it, every worker's OpenMP would take every core: nproc times too many threads.
  if (!has_omp_threads) {
    environment.push_back("OMP_NUM_THREADS=" + std::to_string(threads_per_worker(options.nproc)));
  }
  return environment;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& text : strings)
    pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

// fork + execve. Everything the child needs is prepared by the caller: between fork and exec the
// child may only make async-signal-safe calls, since another thread may have held malloc's lock.
pid_t spawn(char* const* argv, char* const* envp, pid_t launcher) {
  BlockForwardedSignals blocked;
  const pid_t pid = fork();
  if (pid != 0) return pid;  // the launcher (or -1)

  // A worker must not outlive its launcher: the kernel sends it SIGTERM when the launcher dies.
  // (It fires when the forking *thread* ends; launch() outlives its workers, so that is the same.)
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  // The launcher may have died before prctl took effect; then nobody would ever send the signal.
  if (getppid() != launcher) _exit(128 + SIGTERM);
  // Back to the signal handling the launcher inherited, then unblock: the worker should see
  // SIGINT and SIGTERM as it would have without a launcher. (Same process group as the launcher,
  // so a Ctrl-C in the terminal reaches every worker directly.)
  for (int i = 0; i < 2; ++i)
    sigaction(kForwarded[i], &previous_handlers[i], nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execve(argv[0], argv, envp);
  const char message[] = "genolm: error: launch: cannot execute the worker command\n";
  [[maybe_unused]] const auto written = write(STDERR_FILENO, message, sizeof message - 1);
  _exit(127);
}

void validate(const LaunchOptions& options, const std::vector<std::string>& worker_argv) {
  if (options.nproc < 1) {
    throw Error("launch: nproc (workers per node) must be at least 1, got " +
                std::to_string(options.nproc));
  }
  if (options.nnodes < 1) {
    throw Error("launch: nnodes must be at least 1, got " + std::to_string(options.nnodes));
  }
  if (options.node_rank < 0 || options.node_rank >= options.nnodes) {
    throw Error("launch: node_rank " + std::to_string(options.node_rank) + " is out of range for " +
                std::to_string(options.nnodes) + " node(s) (expected 0 to " +
                std::to_string(options.nnodes - 1) + ")");
  }
  if (static_cast<long long>(options.nproc) * options.nnodes > 1'000'000) {
    throw Error("launch: nproc x nnodes = " +
                std::to_string(static_cast<long long>(options.nproc) * options.nnodes) +
                " workers is more than genolm can launch");
  }
  if (options.master_addr.empty()) throw Error("launch: master_addr is empty (expected a host)");
  if (options.master_port < 1 || options.master_port > 65535) {
    throw Error("launch: master_port " + std::to_string(options.master_port) +
                " is out of range (expected 1 to 65535)");
  }
  if (!std::isfinite(options.grace_seconds) || options.grace_seconds < 0) {
    throw Error("launch: grace_seconds must be 0 or more, got " +
                std::to_string(options.grace_seconds));
  }
  if (worker_argv.empty() || worker_argv[0].empty()) {
    throw Error("launch: no worker command given");
  }
  if (access(worker_argv[0].c_str(), X_OK) != 0) {
    throw Error("launch: cannot execute the worker '" + worker_argv[0] +
                "': " + std::strerror(errno));
  }
}

}  // namespace

int threads_per_worker(int nproc) {
  if (const char* value = std::getenv("OMP_NUM_THREADS"); value != nullptr) {
    char* end = nullptr;
    const long threads = std::strtol(value, &end, 10);
    if (end != value && *end == '\0' && threads > 0 && threads < 1'000'000) {
      return static_cast<int>(threads);
    }
  }
  // The cores this process may use (taskset, cgroups' cpusets), not every core of the machine.
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) cores = CPU_COUNT(&allowed);
  return std::max(1, cores / std::max(1, nproc));
}

int launch(const LaunchOptions& options, const std::vector<std::string>& worker_argv) {
  validate(options, worker_argv);
  auto argv_strings = worker_argv;
  const auto argv = c_strings(argv_strings);
  // A one-node job's ranks are all started here, so they can share a secret drawn now; the
  // nodes of a larger job must be given the same one (GENOLM_JOB_TOKEN) by whoever starts them.
  const bool inherited = std::getenv(kJobTokenVariable) != nullptr;
  const std::string job_token = !inherited && options.nnodes == 1 ? random_hex_secret() : "";
  std::vector<std::vector<std::string>> environments;
  for (int local = 0; local < options.nproc; ++local) {
    environments.push_back(worker_environment(options, local, job_token));
  }
  std::vector<std::vector<char*>> envps;
  for (auto& environment : environments)
    envps.push_back(c_strings(environment));

  const int first_rank = options.node_rank * options.nproc;
  log("launch")->info("starting {} worker(s): ranks {} to {} of {}, master {}:{}", options.nproc,
                      first_rank, first_rank + options.nproc - 1, options.nnodes * options.nproc,
                      options.master_addr, options.master_port);

  // Declared before the workers: the handlers outlast them, so no signal is missed while any runs.
  ForwardSignals forward;
  unsigned seen[2] = {received[0].load(), received[1].load()};
  WorkerSet workers;
  const pid_t self = getpid();
  for (int local = 0; local < options.nproc; ++local) {
    const pid_t pid = spawn(argv.data(), envps[local].data(), self);
    if (pid < 0) {
      const std::string reason = std::strerror(errno);
      workers.stop(options.grace_seconds);
      throw Error("launch: cannot start the worker for rank " + std::to_string(first_rank + local) +
                  ": " + reason);
    }
    workers.add(first_rank + local, pid);
  }

  while (workers.any_running()) {
    for (int i = 0; i < 2; ++i) {
      const unsigned now = received[i].load();
      if (now == seen[i]) continue;
      seen[i] = now;
      log("launch")->info("forwarding {} to the workers", strsignal(kForwarded[i]));
      workers.signal_running(kForwarded[i]);
    }
    for (const auto& [rank, status] : workers.reap_ended()) {
      if (exit_code(status) == 0) continue;
      // One rank down: the others would wait forever in their next collective. Stop them all.
      log("launch")->error("{}; stopping the other workers", describe(rank, status));
      // A moment first, so that workers which noticed the loss report it themselves.
      workers.let_finish(std::min(2.0, options.grace_seconds));
      workers.stop(options.grace_seconds);
      return exit_code(status);
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  log("launch")->info("all {} worker(s) finished", options.nproc);
  return 0;
}

}  // namespace genolm::dist
