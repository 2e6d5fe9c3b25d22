#include "config/recipe.h"

#include <gtest/gtest.h>

#include "genolm/error.h"
#include "support/test_files.h"

namespace genolm::config {
namespace {

TEST(Recipe, DefaultsThenFileThenSet) {
  test::TempDir dir;
  test::write_text(dir / "r.toml",
                   "[data]\ntrain = [\"a.fa\", \"b.fa.gz\"]\nvalid_fraction = 0.05\n"
                   "[train]\nlr = 1\nbatch_size = 32\n");
  Recipe recipe;
  EXPECT_EQ(recipe.integer("tokenizer.k"), 3);
  recipe.merge_file(dir / "r.toml");
  const auto folder = std::filesystem::absolute(dir / "r.toml").parent_path();
  EXPECT_EQ(recipe.strings("data.train"),
            (std::vector<std::string>{folder / "a.fa", folder / "b.fa.gz"}));
  EXPECT_DOUBLE_EQ(recipe.number("data.valid_fraction"), 0.05);
  EXPECT_DOUBLE_EQ(recipe.number("train.lr"), 1.0);  // an integer is a fine number
  recipe.set("train.batch_size=16");
  recipe.set("run.name=2024");
  recipe.set("data.train=x.fa,y.fa");
  recipe.set("model.arch=transformer");
  recipe.set("train.lr=3e-4");
  EXPECT_EQ(recipe.integer("train.batch_size"), 16);
  EXPECT_EQ(recipe.string("run.name"), "2024");
  const auto here = std::filesystem::current_path();
  EXPECT_EQ(recipe.strings("data.train"), (std::vector<std::string>{here / "x.fa", here / "y.fa"}));
  EXPECT_EQ(recipe.string("model.arch"), "transformer");
  EXPECT_DOUBLE_EQ(recipe.number("train.lr"), 3e-4);
}

// A recipe's paths are the recipe's: a shipped recipe names its data relative to its own folder
// and works from any current folder. Paths given on the command line stay the shell's.
TEST(Recipe, PathsResolveAgainstTheRecipesFolder) {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "recipes/finetune");
  test::write_text(dir / "recipes/finetune/task.toml",
                   "[task]\ntrain = \"../data/train.tsv\"\ntest = \"-\"\n"
                   "[encoder]\nfrom = \"/models/lm\"\n[run]\ndir = \"runs\"\n"
                   "[data]\ntrain = [\"a.fa\", \"sub/b.fa\"]\n");
  Recipe recipe;
  recipe.merge_file(dir / "recipes/finetune/task.toml");
  const auto folder = std::filesystem::absolute(dir / "recipes");
  EXPECT_EQ(recipe.string("task.train"), (folder / "data/train.tsv").string());
  EXPECT_EQ(recipe.string("task.test"), "-");  // standard input stays standard input
  EXPECT_EQ(recipe.string("encoder.from"), "/models/lm");
  EXPECT_EQ(recipe.string("run.dir"), "runs");  // where runs are written: the user's folder
  EXPECT_EQ(recipe.strings("data.train"),
            (std::vector<std::string>{(folder / "finetune/a.fa").string(),
                                      (folder / "finetune/sub/b.fa").string()}));
  EXPECT_EQ(recipe.string("task.valid"), "");

  recipe.set("task.valid=valid.tsv");
  EXPECT_EQ(recipe.string("task.valid"), (std::filesystem::current_path() / "valid.tsv").string());

  // The dump reads back the same from anywhere, a run folder included.
  std::filesystem::create_directories(dir / "elsewhere");
  test::write_text(dir / "elsewhere/config.toml", recipe.dump());
  Recipe again;
  again.merge_file(dir / "elsewhere/config.toml");
  EXPECT_TRUE(again.differences(recipe).empty());
}

TEST(Recipe, UnknownKeyInFileIsNamedWithASuggestion) {
  test::TempDir dir;
  test::write_text(dir / "r.toml", "[train]\nlr = 0.1\nbatch_szie = 8\n");
  Recipe recipe;
  const std::string message = test::error_of([&] { recipe.merge_file(dir / "r.toml"); });
  EXPECT_NE(message.find("r.toml line 3: unknown key 'train.batch_szie'"), std::string::npos)
      << message;
  EXPECT_NE(message.find("did you mean 'train.batch_size'?"), std::string::npos) << message;
}

TEST(Recipe, UnknownSectionAndTopLevelKeys) {
  test::TempDir dir;
  test::write_text(dir / "a.toml", "[trian]\nlr = 0.1\n");
  test::write_text(dir / "b.toml", "lr = 0.1\n");
  Recipe recipe;
  EXPECT_NE(
      test::error_of([&] { recipe.merge_file(dir / "a.toml"); }).find("unknown key 'trian.lr'"),
      std::string::npos);
  EXPECT_NE(test::error_of([&] { recipe.merge_file(dir / "b.toml"); }).find("unknown key 'lr'"),
            std::string::npos);
}

// A value that is not UTF-8 once went into config.toml, which --resume then could not read.
TEST(Recipe, AValueThatIsNotUtf8IsRefused) {
  Recipe recipe;
  EXPECT_EQ(test::error_of([&] { recipe.set("run.name=caf\xE9"); }),
            "--set run.name: the value is not valid UTF-8 (recipes are UTF-8 text)");
  EXPECT_EQ(test::error_of([&] { recipe.set("run.name=\xED\xA0\x80"); }),  // a surrogate
            "--set run.name: the value is not valid UTF-8 (recipes are UTF-8 text)");
  recipe.set("run.name=caf\xC3\xA9_\xF0\x9F\xA7\xAC");  // café_🧬
  EXPECT_EQ(recipe.string("run.name"), "caf\xC3\xA9_\xF0\x9F\xA7\xAC");
}

TEST(Recipe, WrongTypeNamesKeyAndTypes) {
  test::TempDir dir;
  test::write_text(dir / "r.toml", "[train]\nbatch_size = \"big\"\n");
  Recipe recipe;
  const std::string message = test::error_of([&] { recipe.merge_file(dir / "r.toml"); });
  EXPECT_NE(message.find("key 'train.batch_size' expects an integer, got a string"),
            std::string::npos)
      << message;
  EXPECT_NE(test::error_of([&] {
              recipe.set("train.batch_size=2.5");
            }).find("'train.batch_size' expects an integer"),
            std::string::npos);
  EXPECT_NE(
      test::error_of([&] { recipe.set("train.lr=fast"); }).find("'train.lr' expects a number"),
      std::string::npos);
}

TEST(Recipe, ChoicesAndRangesAreChecked) {
  Recipe recipe;
  EXPECT_NE(test::error_of([&] { recipe.set("model.arch=gru"); }).find("'gru' is not one of"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { recipe.set("tokenizer.k=9"); }).find("out of range"),
            std::string::npos);
  EXPECT_NE(
      test::error_of([&] { recipe.set("no_equals_sign"); }).find("expected section.key=value"),
      std::string::npos);
  EXPECT_NE(test::error_of([&] { recipe.set("train.lrr=1"); }).find("did you mean 'train.lr'?"),
            std::string::npos);
}

TEST(Recipe, InvalidTomlNamesTheLine) {
  test::TempDir dir;
  test::write_text(dir / "r.toml", "[train]\nlr = = 1\n");
  Recipe recipe;
  const std::string message = test::error_of([&] { recipe.merge_file(dir / "r.toml"); });
  EXPECT_NE(message.find("r.toml line 2: not valid TOML"), std::string::npos) << message;
}

TEST(Recipe, DumpRoundTrips) {
  test::TempDir dir;
  Recipe recipe;
  recipe.set("data.train=[\"a b.fa\", \"q\\\"uote.fa\"]");
  recipe.set("train.lr=0.0003");
  recipe.set("run.name=exp one");
  test::write_text(dir / "dumped.toml", recipe.dump());
  Recipe reread;
  reread.merge_file(dir / "dumped.toml");
  EXPECT_EQ(reread.dump(), recipe.dump());
  EXPECT_EQ(reread.strings("data.train")[1], std::filesystem::current_path() / "q\"uote.fa");
  EXPECT_DOUBLE_EQ(reread.number("train.lr"), 0.0003);
  // Numbers as people write them, not as many digits as a double holds.
  recipe.set("train.weight_decay=0.1");
  const std::string dump = recipe.dump();
  EXPECT_NE(dump.find("\nlr = 3e-04\n"), std::string::npos) << dump;
  EXPECT_NE(dump.find("\nweight_decay = 0.1\n"), std::string::npos);
  EXPECT_NE(dump.find("\nwarmup = 0.05\n"), std::string::npos);
  EXPECT_NE(dump.find("\nstage_epochs = [ 1, 1, 1, 8 ]\n"), std::string::npos);
}

TEST(Recipe, EveryShippedDefaultIsValid) {
  // The schema's own defaults must pass its checks.
  Recipe recipe;
  for (const auto& spec : recipe_schema()) {
    EXPECT_NO_THROW(recipe.set_value(spec.key, spec.default_value, "test")) << spec.key;
  }
}

TEST(Recipe, AKeyTheCommandDoesNotReadIsAnErrorNamingKeyAndCommand) {
  test::TempDir dir;
  Recipe finetune;
  finetune.set("train.lr=1e-3");
  EXPECT_EQ(test::error_of([&] { finetune.check_read_by(Command::finetune); }),
            "--set: recipe key 'train.lr' is not read by 'genolm finetune': fine-tuning's "
            "learning rates are finetune.stage_lrs");

  Recipe pretrain;
  pretrain.set("encoder.from=runs/x");
  EXPECT_EQ(test::error_of([&] { pretrain.check_read_by(Command::pretrain); }),
            "--set: recipe key 'encoder.from' is not read by 'genolm pretrain': pretraining "
            "starts from random weights, or from a run's language model with init.from; "
            "encoder.from is fine-tuning's");

  // From a file: the file and line; every other unread key is listed too.
  test::write_text(dir / "r.toml",
                   "[run]\nseed = 1\n[task]\ntrain = \"x.tsv\"\n[head]\n"
                   "dropout = 0.2\n");
  Recipe from_file;
  from_file.merge_file(dir / "r.toml");
  const std::string message = test::error_of([&] { from_file.check_read_by(Command::pretrain); });
  EXPECT_NE(message.find("r.toml line 4: recipe key 'task.train' is not read by 'genolm "
                         "pretrain': labelled tables are fine-tuning's"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("(nor is 'head.dropout')"), std::string::npos) << message;

  // A command-line flag names itself.
  Recipe flagged;
  flagged.set_value("train.epochs", std::int64_t{3}, "--epochs");
  EXPECT_EQ(test::error_of([&] {
              flagged.check_read_by(Command::finetune);
            }).rfind("--epochs: recipe key 'train.epochs' is not read by 'genolm finetune'", 0),
            0u);
}

TEST(Recipe, TheSameKeyIsFineForTheCommandThatReadsIt) {
  Recipe recipe;
  recipe.set("train.lr=1e-3");
  recipe.set("model.emb_size=128");
  EXPECT_NO_THROW(recipe.check_read_by(Command::pretrain));
  EXPECT_NE(test::error_of([&] { recipe.check_read_by(Command::finetune); }), "");

  Recipe finetune;
  finetune.set("encoder.from=runs/x");
  finetune.set("task.train=x.tsv");
  finetune.set("train.bptt=40");  // the LSTM's chunk when fine-tuning
  finetune.set("model.drop_mult=0.3");
  finetune.set("tokenizer.kind=protein");  // checked against the pretrained encoder's
  EXPECT_NO_THROW(finetune.check_read_by(Command::finetune));
  EXPECT_NE(test::error_of([&] { finetune.check_read_by(Command::pretrain); }), "");
  EXPECT_TRUE(finetune.is_set("encoder.from"));
  EXPECT_FALSE(finetune.is_set("train.lr"));
}

TEST(Recipe, DefaultsNeverTripTheCheck) {
  for (const Command command : {Command::corpus, Command::pretrain, Command::finetune}) {
    EXPECT_NO_THROW(Recipe().check_read_by(command)) << command_name(command);
  }
  // A command's dump reads back as a recipe for that command; the full dump does not.
  test::TempDir dir;
  Recipe recipe;
  recipe.set("train.lr=0.0003");
  recipe.set("model.arch=transformer");
  test::write_text(dir / "pretrain.toml", recipe.dump(Command::pretrain));
  Recipe reread;
  reread.merge_file(dir / "pretrain.toml");
  EXPECT_NO_THROW(reread.check_read_by(Command::pretrain));
  EXPECT_EQ(reread.dump(Command::pretrain), recipe.dump(Command::pretrain));
  EXPECT_EQ(recipe.dump(Command::pretrain).find("[task]"), std::string::npos);
  EXPECT_NE(recipe.dump(Command::finetune).find("[task]"), std::string::npos);
  EXPECT_EQ(recipe.dump(Command::finetune).find("lr = "), std::string::npos);
  test::write_text(dir / "every_key.toml", Recipe().dump());
  Recipe every_key;
  every_key.merge_file(dir / "every_key.toml");
  EXPECT_NE(test::error_of([&] { every_key.check_read_by(Command::pretrain); }), "");
}

// Keys whose values come from elsewhere are written as a note, not a value, and the text still
// reads back as the same recipe.
TEST(Recipe, SuppliedKeysAreDumpedAsNotes) {
  test::TempDir dir;
  Recipe recipe;
  recipe.set("model.drop_mult=0.2");
  const std::map<std::string, std::string> supplied = {{"model.emb_size", "from runs/lm"},
                                                       {"model.hidden_size", "from runs/lm"}};
  const auto text = recipe.dump(Command::finetune, supplied);
  const auto start = text.find("[model]\n");
  ASSERT_NE(start, std::string::npos) << text;
  const auto model = text.substr(start, text.find("\n[", start) - start);
  EXPECT_NE(model.find("\n# emb_size: from runs/lm\n"), std::string::npos) << model;
  EXPECT_EQ(model.find("\nemb_size ="), std::string::npos) << model;
  EXPECT_EQ(model.find("\nhidden_size ="), std::string::npos) << model;
  EXPECT_NE(model.find("\ndrop_mult = 0.2\n"), std::string::npos) << model;
  EXPECT_NE(model.find("\nlayers = 3\n"), std::string::npos) << model;  // not supplied
  test::write_text(dir / "finetune.toml", text);
  Recipe reread;
  reread.merge_file(dir / "finetune.toml");
  EXPECT_TRUE(reread.differences(recipe, Command::finetune).empty());
  EXPECT_FALSE(reread.is_set("model.emb_size"));
}

TEST(Recipe, TheCorpusTakesAPretrainingRecipeButNotPretrainingKeysOnTheCommandLine) {
  test::TempDir dir;
  test::write_text(dir / "lm.toml",
                   "[data]\ntrain = [\"g.fa\"]\n[tokenizer]\nk = 4\n[model]\nlayers = 2\n"
                   "[train]\nlr = 0.01\n");
  Recipe recipe;
  recipe.merge_file(dir / "lm.toml");
  EXPECT_NO_THROW(recipe.check_read_by(Command::corpus));
  recipe.set("train.lr=0.02");
  EXPECT_NE(test::error_of([&] {
              recipe.check_read_by(Command::corpus);
            }).find("--set: recipe key 'train.lr' is not read by 'genolm corpus'"),
            std::string::npos);
  // Fine-tuning's keys are no pretraining recipe's.
  test::write_text(dir / "task.toml", "[task]\ntrain = \"t.tsv\"\n");
  Recipe task;
  task.merge_file(dir / "task.toml");
  EXPECT_NE(test::error_of([&] {
              task.check_read_by(Command::corpus);
            }).find("task.toml line 2: recipe key 'task.train' is not read by 'genolm corpus'"),
            std::string::npos);
}

TEST(Recipe, WhatAResumedRunMayChangeComesFromTheSchema) {
  std::vector<std::string> may_change;
  for (const auto& spec : recipe_schema()) {
    if (spec.may_change_on_resume()) may_change.emplace_back(spec.key);
    // Every key is read by some command, and a key a resumed run may change by a training one.
    EXPECT_TRUE(spec.read_by(Command::corpus) || spec.read_by(Command::pretrain) ||
                spec.read_by(Command::finetune))
        << spec.key;
    if (spec.may_change_on_resume()) {
      EXPECT_TRUE(spec.read_by(Command::pretrain) || spec.read_by(Command::finetune)) << spec.key;
    }
  }
  EXPECT_EQ(may_change,
            (std::vector<std::string>{"train.epochs", "train.max_steps", "train.log_every",
                                      "train.eval_every", "train.checkpoint_every",
                                      "train.keep_checkpoints", "dist.backend", "dist.timeout"}));
  EXPECT_FALSE(find_key("train.lr")->may_change_on_resume());
  EXPECT_EQ(find_key("train.lrr"), nullptr);
}

TEST(Recipe, DifferencesForACommandCompareOnlyItsKeys) {
  Recipe a, b;
  b.set("task.train=x.tsv");
  b.set("train.batch_size=8");
  EXPECT_EQ(a.differences(b), (std::vector<std::string>{"train.batch_size", "task.train"}));
  EXPECT_EQ(a.differences(b, Command::pretrain), (std::vector<std::string>{"train.batch_size"}));
  EXPECT_EQ(a.differences(b, Command::corpus), std::vector<std::string>{});
}

}  // namespace
}  // namespace genolm::config

namespace genolm::config {
namespace {

// The command each shipped recipe is written for.
Command command_of(const std::filesystem::path& recipe) {
  const std::string folder = recipe.parent_path().filename().string();
  const std::string name = recipe.stem().string();
  if (folder == "finetune" || name == "splice_finetune") return Command::finetune;
  return Command::pretrain;  // configs/pretrain, the antibody language models, the chr22 quick
                             // start
}

TEST(Recipe, EveryRecipeInConfigsIsValidForItsCommand) {
  std::size_t checked = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(
           std::filesystem::path(GENOLM_SOURCE_DIR) / "configs")) {
    if (entry.path().extension() != ".toml") continue;
    Recipe recipe;
    EXPECT_NO_THROW(recipe.merge_file(entry.path())) << entry.path();
    const Command command = command_of(entry.path());
    EXPECT_EQ(test::error_of([&] { recipe.check_read_by(command); }), "") << entry.path();
    // A pretraining recipe also builds its corpus ('genolm corpus --config').
    if (command == Command::pretrain) {
      EXPECT_EQ(test::error_of([&] { recipe.check_read_by(Command::corpus); }), "") << entry.path();
    }
    ++checked;
  }
  EXPECT_GE(checked, 12u);
}

}  // namespace
}  // namespace genolm::config
