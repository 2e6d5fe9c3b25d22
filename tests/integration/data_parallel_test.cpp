// genolm launch end to end: two ranks on one machine train exactly what one process trains with the
// whole batch, two launchers on loopback form one job, a rank killed mid-run takes the job down
// quickly and completely and the run resumes exactly on the same world size (and refuses another),
// and a batch that does not split over the ranks is a clear error.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <torch/serialize.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "io/safetensors.h"
#include "models/model_factory.h"
#include "support/genolm_process.h"
#include "support/gloo.h"
#include "support/test_files.h"
#include "train/module_file.h"
#include "train/tensor_file.h"

namespace genolm {
namespace {

using Clock = std::chrono::steady_clock;
using test::free_port;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A process started without a shell (words split on spaces, so its pid is the program's), stdout
// and stderr to files; SIGKILLed and reaped at scope end if the test left it running.
class Process {
 public:
  Process(const std::string& command_line, const std::filesystem::path& out,
          const std::filesystem::path& err) {
    auto words = test::split_words(command_line);
    std::vector<char*> argv;
    for (auto& word : words)
      argv.push_back(word.data());
    argv.push_back(nullptr);
    const std::string out_path = out.string(), err_path = err.string();
    pid_ = fork();
    if (pid_ == 0) {
      const int null = open("/dev/null", O_RDONLY);
      const int out_fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int err_fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(null, STDIN_FILENO);
      dup2(out_fd, STDOUT_FILENO);
      dup2(err_fd, STDERR_FILENO);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~Process() {
    if (running_ && pid_ > 0) {
      kill(pid_, SIGKILL);
      wait();
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // Exit status as a shell reports it: the code, or 128 + signal.
  int wait() {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    running_ = false;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  bool running_ = true;
};

std::string read_proc(pid_t pid, const char* what) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + what, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<pid_t> all_pids() {
  std::vector<pid_t> pids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos)
      pids.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return pids;
}

// The processes whose parent is `parent` (from /proc/PID/stat: the field after the state).
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> children;
  for (const pid_t pid : all_pids()) {
    const std::string stat = read_proc(pid, "stat");
    const auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(close_paren + 1));
    char state = 0;
    pid_t ppid = 0;
    if (fields >> state >> ppid && ppid == parent) children.push_back(pid);
  }
  return children;
}

bool environment_has(pid_t pid, const std::string& entry) {
  const std::string environment = read_proc(pid, "environ");
  std::size_t start = 0;
  while (start < environment.size()) {
    const auto end = environment.find('\0', start);
    if (environment.compare(start, (end == std::string::npos ? environment.size() : end) - start,
                            entry) == 0)
      return true;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return false;
}

// Live processes (zombies included) whose command line mentions `text`.
std::vector<pid_t> processes_mentioning(const std::string& text) {
  std::vector<pid_t> found;
  for (const pid_t pid : all_pids()) {
    if (pid == getpid()) continue;
    std::string command_line = read_proc(pid, "cmdline");
    std::replace(command_line.begin(), command_line.end(), '\0', ' ');
    if (command_line.find(text) != std::string::npos) found.push_back(pid);
  }
  return found;
}

std::filesystem::path newest_checkpoint(const std::filesystem::path& dir) {
  std::filesystem::path newest;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".safetensors" && entry.path() > newest) newest = entry.path();
  return newest;
}

class DataParallel : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_text(dir_ / "genome.fa",
                     test::fasta_record("repeats", test::tandem_repeats(40000, 5)));
  }

  // A small AWD-LSTM without dropout (so one process and two ranks compute the same thing),
  // checkpointing every 5 steps; `train_extra` adds keys to [train].
  std::filesystem::path recipe(const std::string& name, const std::string& train_extra = "") {
    const auto file = dir_ / (name + ".toml");
    test::write_text(
        file,
        "[run]\nname = \"" + name + "\"\ndir = \"" + (dir_ / "runs").string() +
            "\"\nseed = 7\n[data]\ntrain = [\"" + (dir_ / "genome.fa").string() +
            "\"]\nvalid_fraction = 0.05\nvalid_block_bases = 2000\n"
            "[tokenizer]\nkind = \"kmer\"\nk = 3\nstride = 1\n"
            "[model]\nemb_size = 24\nhidden_size = 48\nlayers = 2\n"
            "drop_mult = 0\n"
            "[train]\ndevice = \"cpu\"\nbatch_size = 16\nbptt = 30\nlr = 1e-2\nmax_steps = 30\n"
            "log_every = 1\neval_every = 1000\ncheckpoint_every = 5\n" +
            train_extra + "[dist]\ntimeout = 20\n");
    return file;
  }

  // genolm launch with one thread per rank; `launch_flags` go to launch, `more` to pretrain.
  static std::string launch(const std::filesystem::path& recipe_file, int nproc,
                            const std::string& more = "", const std::string& launch_flags = "") {
    return std::string(GENOLM_BINARY) + " --threads 1 --log-level warn launch --nproc " +
           std::to_string(nproc) + " --master-port " + std::to_string(free_port()) + " " +
           launch_flags + " -- pretrain --config " + recipe_file.string() + " " + more;
  }

  static std::string single(const std::filesystem::path& recipe_file, int threads,
                            const std::string& more = "") {
    return std::string(GENOLM_BINARY) + " --threads " + std::to_string(threads) +
           " --log-level warn pretrain --config " + recipe_file.string() + " " + more;
  }

  int run(const std::string& command_line) {
    return test::run_command(command_line, dir_ / "out.txt", dir_ / "err.txt");
  }
  std::string err() const { return test::read_text(dir_ / "err.txt"); }

  std::filesystem::path folder(const std::string& name) const { return dir_ / "runs" / name; }

  std::map<std::int64_t, double> train_losses(const std::string& name) const {
    std::map<std::int64_t, double> losses;
    for (const auto& row : test::read_jsonl(folder(name) / "metrics.jsonl")) {
      if (row["split"] == "train") losses[row["step"].get<std::int64_t>()] = row["loss"];
    }
    return losses;
  }

  nlohmann::json run_json(const std::string& name) const {
    return nlohmann::json::parse(test::read_text(folder(name) / "run.json"));
  }

  nlohmann::json encoder_description(const std::string& name) const {
    return nlohmann::json::parse(test::read_text(folder(name) / "model.json"))["encoder"];
  }

  // The named parameters of a run's encoder weights.
  std::vector<std::pair<std::string, torch::Tensor>> encoder_parameters(
      const std::string& name) const {
    auto encoder = models::make_encoder(encoder_description(name));
    train::load_module_file(*encoder, folder(name) / "encoder.safetensors");
    std::vector<std::pair<std::string, torch::Tensor>> parameters;
    for (const auto& item : encoder->named_parameters())
      parameters.emplace_back(item.key(), item.value());
    return parameters;
  }

  // The named parameters of the language model in a checkpoint of run `name`.
  std::vector<std::pair<std::string, torch::Tensor>> checkpoint_parameters(
      const std::string& name, const std::filesystem::path& file) const {
    const auto description = encoder_description(name);
    auto model =
        models::make_language_model(models::make_encoder(description), description, 2.0, 1.0);
    train::load_module_tensors(*model, io::SafetensorsFile::read(file, true), "model.");
    std::vector<std::pair<std::string, torch::Tensor>> parameters;
    for (const auto& item : model->named_parameters())
      parameters.emplace_back(item.key(), item.value());
    return parameters;
  }

  test::TempDir dir_;
};

TEST_F(DataParallel, TwoRanksTrainWhatOneProcessTrainsWithTheWholeBatch) {
  GENOLM_REQUIRE_GLOO();
  ASSERT_EQ(run(single(recipe("single"), 2)), 0) << err();
  ASSERT_EQ(run(launch(recipe("ranks"), 2)), 0) << err();

  // The global batch's loss at every step (rank 0 logs the all-reduced mean of the two halves).
  const auto single_losses = train_losses("single");
  const auto rank_losses = train_losses("ranks");
  ASSERT_EQ(single_losses.size(), 30u);
  ASSERT_EQ(rank_losses.size(), 30u);
  for (const auto& [step, loss] : single_losses) {
    ASSERT_TRUE(rank_losses.count(step)) << "step " << step;
    EXPECT_NEAR(rank_losses.at(step), loss, 1e-4 * std::abs(loss)) << "step " << step;
  }
  EXPECT_LT(single_losses.rbegin()->second, single_losses.begin()->second - 0.1);  // it learned
  EXPECT_EQ(run_json("ranks")["ranks"], 2);
  EXPECT_EQ(run_json("ranks")["status"], "finished");
  EXPECT_EQ(run_json("single")["ranks"], 1);

  // The final encoders agree to floating-point tolerance.
  const auto one = encoder_parameters("single");
  const auto two = encoder_parameters("ranks");
  ASSERT_EQ(one.size(), two.size());
  ASSERT_FALSE(one.empty());
  for (std::size_t i = 0; i < one.size(); ++i) {
    EXPECT_EQ(one[i].first, two[i].first);
    ASSERT_EQ(one[i].second.sizes(), two[i].second.sizes()) << one[i].first;
    const double difference = (one[i].second - two[i].second).abs().max().item<double>();
    EXPECT_TRUE(torch::allclose(one[i].second, two[i].second, 1e-4, 1e-5))
        << one[i].first << ": max difference " << difference;
  }

  // The ranks hold bit-identical weights: rank 1 checkpoints beside rank 0, step for step.
  const auto checkpoints = folder("ranks") / "checkpoints";
  const auto rank0 = newest_checkpoint(checkpoints);
  const auto rank1 = newest_checkpoint(checkpoints / "rank-1");
  ASSERT_FALSE(rank0.empty());
  ASSERT_FALSE(rank1.empty());
  EXPECT_EQ(rank0.filename(), "step-00000030.safetensors");
  EXPECT_EQ(rank1.filename(), rank0.filename());
  const auto weights0 = checkpoint_parameters("ranks", rank0);
  const auto weights1 = checkpoint_parameters("ranks", rank1);
  ASSERT_EQ(weights0.size(), weights1.size());
  for (std::size_t i = 0; i < weights0.size(); ++i) {
    EXPECT_EQ(weights0[i].first, weights1[i].first);
    EXPECT_TRUE(torch::equal(weights0[i].second, weights1[i].second))
        << weights0[i].first << " differs between rank 0 and rank 1";
  }
  // ...and the same as the encoder weights that rank 0 wrote at the end.
  for (std::size_t i = 0; i < two.size(); ++i) {
    bool found = false;
    for (const auto& [key, value] : weights0) {
      if (key == "encoder." + two[i].first) {
        found = true;
        EXPECT_TRUE(torch::equal(value, two[i].second)) << key;
      }
    }
    EXPECT_TRUE(found) << two[i].first;
  }
}

TEST_F(DataParallel, TwoLaunchersOnLoopbackFormOneJob) {
  GENOLM_REQUIRE_GLOO();
  const auto file = recipe("nodes");
  const std::string port = std::to_string(free_port());
  auto node = [&](int rank) {
    return std::string(GENOLM_BINARY) +
           " --threads 1 --log-level warn launch --nnodes 2 --node-rank " + std::to_string(rank) +
           " --nproc 1 --master-addr 127.0.0.1 --master-port " + port + " -- pretrain --config " +
           file.string() + " --set train.max_steps=10";
  };
  Process node0(node(0), dir_ / "out0.txt", dir_ / "err0.txt");
  Process node1(node(1), dir_ / "out1.txt", dir_ / "err1.txt");
  const int status0 = node0.wait();
  const int status1 = node1.wait();
  EXPECT_EQ(status0, 0) << test::read_text(dir_ / "err0.txt");
  EXPECT_EQ(status1, 0) << test::read_text(dir_ / "err1.txt");
  ASSERT_TRUE(std::filesystem::exists(folder("nodes") / "run.json"));
  EXPECT_EQ(run_json("nodes")["ranks"], 2);
  EXPECT_EQ(run_json("nodes")["status"], "finished");
  EXPECT_EQ(train_losses("nodes").size(), 10u);
  EXPECT_EQ(newest_checkpoint(folder("nodes") / "checkpoints" / "rank-1").filename(),
            "step-00000010.safetensors");
}

TEST_F(DataParallel, AKilledRankStopsTheJobAndTheRunResumesExactlyOnTheSameWorldSize) {
  GENOLM_REQUIRE_GLOO();
  ASSERT_EQ(run(launch(recipe("reference"), 2)), 0) << err();
  const auto reference = train_losses("reference");
  ASSERT_EQ(reference.size(), 30u);

  const auto file = recipe("killed");
  const auto checkpoints = folder("killed") / "checkpoints";
  {
    Process launcher(launch(file, 2, "--set dist.timeout=5"), dir_ / "out.txt", dir_ / "err.txt");
    // Rank 1's worker: the launcher's child with RANK=1 in its environment.
    pid_t rank1 = -1;
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (rank1 < 0 && Clock::now() < deadline) {
      for (const pid_t child : children_of(launcher.pid()))
        if (environment_has(child, "RANK=1")) rank1 = child;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ASSERT_GT(rank1, 0) << "no worker with RANK=1 under the launcher";
    // Killed between two checkpoints, once both ranks have saved one: their newest ones agree.
    while (Clock::now() < deadline && (test::checkpoint_count(checkpoints) == 0 ||
                                       test::checkpoint_count(checkpoints / "rank-1") == 0))
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_EQ(kill(rank1, SIGKILL), 0);
    const auto killed = Clock::now();
    const int status = launcher.wait();
    const double seconds = seconds_since(killed);
    EXPECT_NE(status, 0);
    EXPECT_LT(seconds, 30.0) << "the launcher took too long to give up";
  }
  // Nothing of that job is left behind.
  EXPECT_TRUE(processes_mentioning(file.string()).empty());
  // The launcher names the rank that died, or rank 0 says it lost contact, whichever ended first.
  // (Rank 0's own message is often missing: the launcher's SIGTERM reaches it while its error
  // unwinds, after the trainer's signal handlers are gone, and ends it before it prints.)
  const std::string killed_err = err();
  EXPECT_TRUE(killed_err.find("rank 1 was killed by signal 9") != std::string::npos ||
              killed_err.find("lost contact with the other ranks") != std::string::npos)
      << killed_err;

  // One process cannot resume a two-rank run.
  const auto saved_step = newest_checkpoint(checkpoints).filename();
  EXPECT_EQ(run(single(file, 1, "--resume")), 1);
  const std::string wrong_world = err();
  EXPECT_NE(wrong_world.find("rank"), std::string::npos) << wrong_world;
  EXPECT_NE(wrong_world.find("trained on 2"), std::string::npos) << wrong_world;
  EXPECT_EQ(newest_checkpoint(checkpoints).filename(), saved_step);

  // Two ranks do, exactly.
  ASSERT_EQ(run(launch(file, 2, "--resume")), 0) << err();
  EXPECT_EQ(train_losses("killed"), reference);  // every step, bit for bit
  EXPECT_EQ(run_json("killed")["status"], "finished");
}

TEST_F(DataParallel, BatchNotDivisibleByTheRanksIsAClearError) {
  EXPECT_EQ(run(launch(recipe("uneven"), 2, "--set train.batch_size=15")), 1);
  const std::string message = err();
  EXPECT_NE(message.find("train.batch_size 15 does not split evenly over 2 ranks"),
            std::string::npos)
      << message;
  EXPECT_TRUE(processes_mentioning((dir_ / "uneven.toml").string()).empty());
}

// Fine-tuning on 2 ranks: rank 0 tests the model on every test example once; evaluating that model
// in one process on the same file gives the same metrics.
TEST_F(DataParallel, FineTuningOnTwoRanksReportsWhatOneProcessEvaluates) {
  GENOLM_REQUIRE_GLOO();
  ASSERT_EQ(run(single(recipe("encoder"), 2, "--set train.max_steps=10")), 0) << err();
  std::mt19937 rng(11);
  std::string table = "id\tsequence\tlabel\n";
  for (int i = 0; i < 240; ++i) {
    std::string dna = test::random_dna(40, 100 + static_cast<unsigned>(i));
    const bool yes = i % 2 == 0;
    if (yes) dna.replace(rng() % 26, 14, "GATTACAGATTACA");
    // Appended piece by piece: GCC 12 sees a false -Wrestrict in "q" + std::to_string(...).
    table.append("q").append(std::to_string(i)).append("\t").append(dna);
    table.append("\t").append(yes ? "yes" : "no").append("\n");
  }
  test::write_text(dir_ / "task.tsv", table);
  const auto file = dir_ / "finetune.toml";
  test::write_text(file, "[run]\nname = \"classifier\"\ndir = \"" + (dir_ / "runs").string() +
                             "\"\n[task]\ntrain = \"" + (dir_ / "task.tsv").string() +
                             "\"\nvalid_fraction = 0.15\ntest_fraction = 0.25\n[encoder]\n"
                             "from = \"" +
                             folder("encoder").string() +
                             "\"\n[train]\ndevice = \"cpu\"\nbatch_size = 16\n[finetune]\n"
                             "stage_epochs = [1, 2]\nstage_lrs = [2e-2, 1e-2]\n"
                             "[dist]\ntimeout = 20\n");
  ASSERT_EQ(run(std::string(GENOLM_BINARY) +
                " --threads 1 --log-level warn launch --nproc 2 "
                "--master-port " +
                std::to_string(free_port()) + " -- finetune --config " + file.string()),
            0)
      << err();
  EXPECT_EQ(run_json("classifier")["ranks"], 2);
  nlohmann::json test_row;
  for (const auto& row : test::read_jsonl(folder("classifier") / "metrics.jsonl"))
    if (row["split"] == "test") test_row = row;
  ASSERT_TRUE(test_row.is_object());
  EXPECT_EQ(test_row["confusion"][0][0].get<int>() + test_row["confusion"][0][1].get<int>() +
                test_row["confusion"][1][0].get<int>() + test_row["confusion"][1][1].get<int>(),
            60);  // every test example once

  // The test split as a file of its own, from the run's predictions (same ids, same order).
  std::string test_table = "id\tsequence\tlabel\n";
  std::map<std::string, std::string> rows;
  std::istringstream all(table);
  std::string line;
  std::getline(all, line);
  while (std::getline(all, line))
    rows[line.substr(0, line.find('\t'))] = line;
  std::istringstream predictions(test::read_text(folder("classifier") / "test_predictions.tsv"));
  std::getline(predictions, line);
  while (std::getline(predictions, line))
    test_table += rows.at(line.substr(0, line.find('\t'))) + "\n";
  test::write_text(dir_ / "test_split.tsv", test_table);
  ASSERT_EQ(run(std::string(GENOLM_BINARY) +
                " --threads 1 --log-level warn evaluate --device cpu --model " +
                folder("classifier").string() + " --input " + (dir_ / "test_split.tsv").string() +
                " --out " + (dir_ / "evaluated.json").string()),
            0)
      << err();
  const auto evaluated = nlohmann::json::parse(test::read_text(dir_ / "evaluated.json"));
  EXPECT_EQ(evaluated["examples"], 60);
  EXPECT_EQ(evaluated["accuracy"], test_row["accuracy"]);
  EXPECT_EQ(evaluated["confusion"], test_row["confusion"]);
  EXPECT_NEAR(evaluated["auroc"].get<double>(), test_row["auroc"].get<double>(), 1e-6);
}

}  // namespace
}  // namespace genolm
