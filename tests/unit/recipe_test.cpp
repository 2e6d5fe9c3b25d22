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
  EXPECT_EQ(recipe.strings("data.train"), (std::vector<std::string>{"a.fa", "b.fa.gz"}));
  EXPECT_DOUBLE_EQ(recipe.number("data.valid_fraction"), 0.05);
  EXPECT_DOUBLE_EQ(recipe.number("train.lr"), 1.0);  // an integer is a fine number
  recipe.set("train.batch_size=16");
  recipe.set("run.name=2024");
  recipe.set("data.train=x.fa,y.fa");
  recipe.set("model.arch=transformer");
  recipe.set("train.lr=3e-4");
  EXPECT_EQ(recipe.integer("train.batch_size"), 16);
  EXPECT_EQ(recipe.string("run.name"), "2024");
  EXPECT_EQ(recipe.strings("data.train"), (std::vector<std::string>{"x.fa", "y.fa"}));
  EXPECT_EQ(recipe.string("model.arch"), "transformer");
  EXPECT_DOUBLE_EQ(recipe.number("train.lr"), 3e-4);
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
  EXPECT_EQ(reread.strings("data.train")[1], "q\"uote.fa");
  EXPECT_DOUBLE_EQ(reread.number("train.lr"), 0.0003);
}

TEST(Recipe, EveryShippedDefaultIsValid) {
  // The schema's own defaults must pass its checks.
  Recipe recipe;
  for (const auto& spec : recipe_schema()) {
    EXPECT_NO_THROW(recipe.set_value(spec.key, spec.default_value, "test")) << spec.key;
  }
}

}  // namespace
}  // namespace genolm::config

namespace genolm::config {
namespace {

TEST(Recipe, EveryRecipeInConfigsIsValid) {
  std::size_t checked = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(
           std::filesystem::path(GENOLM_SOURCE_DIR) / "configs")) {
    if (entry.path().extension() != ".toml") continue;
    Recipe recipe;
    EXPECT_NO_THROW(recipe.merge_file(entry.path())) << entry.path();
    ++checked;
  }
  EXPECT_GE(checked, 4u);
}

}  // namespace
}  // namespace genolm::config
