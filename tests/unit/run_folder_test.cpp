// The run folder's one rule about starting over: a folder whose run never reached a step is
// replaced by a new start; a run that has trained is never overwritten, and is resumed only with
// the recipe it started with (what may change is the schema's to say).
#include "run/run_folder.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include "genolm/remove_tree.h"
#include "support/test_files.h"
#include "util/log.h"

namespace genolm::run {
namespace {

using config::Command;

class RunFolder : public ::testing::Test {
 protected:
  config::Recipe recipe(const std::string& more = "") const {
    config::Recipe recipe;
    recipe.set("run.dir=" + (dir_ / "runs").string());
    recipe.set("run.name=lm");
    if (!more.empty()) recipe.set(more);
    return recipe;
  }
  RunLayout open(const config::Recipe& recipe, bool resume) const {
    return open_run_folder(recipe, "", Command::pretrain, resume);
  }
  RunLayout layout() const { return RunLayout(dir_ / "runs" / "lm"); }
  static void write(const std::filesystem::path& file, const std::string& text) {
    std::filesystem::create_directories(file.parent_path());
    test::write_text(file, text);
  }

  test::TempDir dir_;
};

TEST_F(RunFolder, ANewStartReplacesAFolderWhoseRunNeverReachedAStep) {
  const RunLayout run = open(recipe("data.train=missing.fa"), false);
  EXPECT_EQ(run.dir(), layout().dir());
  // What a start that stopped before its first step leaves, and a file that is not genolm's.
  write(run.corpus() / "corpus.json", "{}");
  write(run.tokenizer() / "tokenizer.json", "{}");
  write(run.metrics(), "");
  write(run.run_json(), R"({"status": "failed"})");
  std::filesystem::create_directories(run.rank_checkpoints(1));
  write(run.dir() / "notes.txt", "mine");
  ASSERT_FALSE(has_trained(run));

  open(recipe("data.train=genome.fa"), false);
  for (const auto& gone :
       {run.corpus(), run.tokenizer(), run.metrics(), run.run_json(), run.checkpoints()}) {
    EXPECT_FALSE(std::filesystem::exists(gone)) << gone;
  }
  EXPECT_EQ(test::read_text(run.dir() / "notes.txt"), "mine");
  EXPECT_NE(test::read_text(run.config()).find("genome.fa"), std::string::npos);
  log("run")->flush();
  EXPECT_NE(test::read_text(run.log()).find("never reached a step: replaced"), std::string::npos);
}

TEST_F(RunFolder, ANewStartNeverOverwritesARunThatTrained) {
  const RunLayout run = layout();
  const std::vector<std::pair<std::filesystem::path, std::string>> traces = {
      {run.rank_checkpoints(0) / "step-5.pt", "x"},
      {run.rank_checkpoints(1) / "step-5.pt", "x"},
      {run.encoder_weights(), "x"},
      {run.language_model_weights(), "x"},
      {run.classifier_weights(), "x"},
      {run.metrics(), R"({"step": 1, "split": "train", "loss": 1.3})"
                      "\n"},
      {run.run_json(), R"({"status": "interrupted", "last_step": 3})"}};
  for (const auto& [trace, text] : traces) {
    remove_tree(run.dir());
    open(recipe(), false);
    write(trace, text);
    EXPECT_TRUE(has_trained(run)) << trace;
    const std::string message = test::error_of([&] { open(recipe(), false); });
    EXPECT_NE(message.find("already exists: continue it with --resume"), std::string::npos)
        << trace << ": " << message;
    EXPECT_TRUE(std::filesystem::exists(trace)) << trace;
  }
}

TEST_F(RunFolder, AResumedRunMayChangeWhatTheSchemaAllowsAndNothingElse) {
  const RunLayout run = open(recipe(), false);
  write(run.rank_checkpoints(0) / "step-5.pt", "x");
  EXPECT_NO_THROW(open(recipe("train.max_steps=80"), true));
  EXPECT_NO_THROW(open(recipe("dist.timeout=20"), true));
  const std::string message = test::error_of([&] { open(recipe("train.lr=0.1"), true); });
  EXPECT_NE(message.find("recipe key 'train.lr' differs from the run's config.toml"),
            std::string::npos)
      << message;
  EXPECT_NE(test::error_of([&] {
              open(recipe("run.name=other"), true);
            }).find("nothing to resume: " + (dir_ / "runs" / "other").string() + " holds no run"),
            std::string::npos);
}

TEST_F(RunFolder, ConfigTomlHoldsTheCommandsKeysAndAnOlderOneWithEveryKeyStillResumes) {
  const RunLayout run = open(recipe(), false);
  const std::string saved = test::read_text(run.config());
  EXPECT_EQ(saved.find("[task]"), std::string::npos);
  config::Recipe reread;
  reread.merge_file(run.config());
  EXPECT_NO_THROW(reread.check_read_by(Command::pretrain));

  // Written by an older genolm: every key, one of them set although pretraining never read it.
  write(run.rank_checkpoints(0) / "step-5.pt", "x");
  write(run.config(), recipe("task.train=ignored.tsv").dump());
  EXPECT_NO_THROW(open(recipe(), true));
  EXPECT_EQ(test::read_text(run.config()), saved);
}

TEST_F(RunFolder, ResumingARunThatNeverTrainedWithAnotherRecipeSaysToStartAgain) {
  open(recipe("data.train=missing.fa"), false);
  const std::string message = test::error_of([&] { open(recipe("data.train=genome.fa"), true); });
  EXPECT_NE(message.find("never reached a step, so a new start without --resume replaces it"),
            std::string::npos)
      << message;
}

TEST_F(RunFolder, TheNameIsRunNameElseTheRecipeFilesStemElseRun) {
  config::Recipe recipe;
  EXPECT_EQ(run_name(recipe, ""), "run");
  EXPECT_EQ(run_name(recipe, "configs/pretrain/ecoli.toml"), "ecoli");
  recipe.set("run.name=mine");
  EXPECT_EQ(run_name(recipe, "configs/pretrain/ecoli.toml"), "mine");
  EXPECT_EQ(run_layout(recipe, "").dir(), std::filesystem::path("runs") / "mine");
}

// Two processes in one run folder would mix their files: the second is refused, naming the first.
TEST_F(RunFolder, AFolderAnotherProcessHoldsIsRefusedNamingIt) {
  const auto folder = layout().dir();
  std::filesystem::create_directories(folder);
  test::write_text(folder / ".lock", "4242\n");
  const int other = ::open((folder / ".lock").c_str(), O_RDWR);  // another process's lock
  ASSERT_GE(other, 0);
  ASSERT_EQ(::flock(other, LOCK_EX | LOCK_NB), 0);
  EXPECT_EQ(test::error_of([&] { open(recipe(), false); }),
            "run folder " + folder.string() +
                " is in use by another genolm process (pid 4242): two runs in one folder would "
                "mix their files; wait for it to end, or stop it");
  EXPECT_FALSE(std::filesystem::exists(layout().config()));  // nothing written
  ::close(other);
  open(recipe(), false);  // free again; this process may open its own folder twice
  open(recipe(), true);
  EXPECT_NE(test::read_text(folder / ".lock"), "4242\n");
}

TEST_F(RunFolder, TheNameIsAFolderNameNotAPath) {
  for (const std::string name : {"../escaped", "a/b", ".."}) {
    EXPECT_EQ(test::error_of([&] { open(recipe("run.name=" + name), false); }),
              "run.name '" + name +
                  "' must be a folder name, not a path (the parent folder is "
                  "run.dir)");
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "escaped"));
}

}  // namespace
}  // namespace genolm::run
