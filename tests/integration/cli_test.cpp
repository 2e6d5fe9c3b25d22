// The genolm program as a user meets it: exit codes, one-line errors, and the commands of this
// version run end to end on files the test writes.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "support/test_files.h"

namespace genolm {
namespace {

struct Outcome {
  int status;
  std::string out;
  std::string err;
};

// genolm with `arguments`; its standard input is what `source` writes (a shell command), or
// empty.
Outcome genolm(const test::TempDir& dir, const std::string& arguments,
               const std::string& source = "") {
  const auto out = dir / "stdout.txt";
  const auto err = dir / "stderr.txt";
  const std::string program = std::string(GENOLM_BINARY) + " --threads 2 " + arguments;
  const std::string command =
      (source.empty() ? program + " </dev/null" : source + " | " + program) + " >" + out.string() +
      " 2>" + err.string();
  const int raw = std::system(command.c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw), test::read_text(out),
          test::read_text(err)};
}

// A user error: non-zero exit, one line on stderr that starts "genolm: error:" and holds
// `expected`.
void expect_clear_error(const Outcome& outcome, const std::string& expected) {
  EXPECT_EQ(outcome.status, 1) << outcome.err;
  ASSERT_FALSE(outcome.err.empty());
  const std::string last_line =
      outcome.err.substr(outcome.err.rfind('\n', outcome.err.size() - 2) + 1);
  EXPECT_EQ(last_line.rfind("genolm: error: ", 0), 0u) << outcome.err;
  EXPECT_EQ(std::count(last_line.begin(), last_line.end(), '\n'), 1) << outcome.err;
  EXPECT_NE(last_line.find(expected), std::string::npos)
      << "wanted '" << expected << "' in " << outcome.err;
}

TEST(Cli, VersionAndHelp) {
  test::TempDir dir;
  const auto version = genolm(dir, "--version");
  EXPECT_EQ(version.status, 0);
  EXPECT_EQ(version.out.rfind("genolm 0.", 0), 0u) << version.out;
  for (const char* command :
       {"tokenizer", "corpus", "pretrain", "finetune", "predict", "embed", "launch"}) {
    const auto help = genolm(dir, std::string(command) + " --help");
    EXPECT_EQ(help.status, 0) << command;
    EXPECT_NE(help.out.find("Usage"), std::string::npos) << command;
  }
  EXPECT_NE(genolm(dir, "no-such-command").status, 0);
}

// Spinning OpenMP waiters made two trainings on one machine keep 24% of their lone speed each;
// genolm hands genolm-train a short spin (bench/RESULTS.md), unless the user chose otherwise.
TEST(Cli, TrainingCommandsGetAShortOpenMpSpinUnlessTheUserSetOne) {
  test::TempDir dir;
  const auto fake_train = dir / "print-env";
  test::write_text(fake_train,
                   "#!/bin/sh\necho \"spin=$GOMP_SPINCOUNT policy=$OMP_WAIT_POLICY\"\n");
  std::filesystem::permissions(fake_train, std::filesystem::perms::owner_all);
  const std::string train =
      "env -u GOMP_SPINCOUNT -u OMP_WAIT_POLICY GENOLM_TRAIN_BINARY=" + fake_train.string() + " ";
  const auto environment_of = [&](const std::string& settings) {
    const auto out = dir / "env.txt";
    const std::string command =
        train + settings + " " + GENOLM_BINARY + " pretrain >" + out.string() + " 2>&1 </dev/null";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return test::read_text(out);
  };
  EXPECT_EQ(environment_of(""), "spin=1000 policy=\n");
  EXPECT_EQ(environment_of("OMP_WAIT_POLICY=active"), "spin= policy=active\n");
  EXPECT_EQ(environment_of("GOMP_SPINCOUNT=300000"), "spin=300000 policy=\n");
}

TEST(Cli, TokenizerTrainEncodeAndCorpus) {
  test::TempDir dir;
  test::write_text(dir / "g.fa", ">g1 test\n" + test::random_dna(20000, 1) + "\n>g2\nACGTN\n");
  ASSERT_EQ(
      genolm(dir, "tokenizer train --kind kmer --k 3 --stride 1 --out " + (dir / "k3").string())
          .status,
      0);
  const auto encoded = genolm(dir, "tokenizer encode --tokenizer " + (dir / "k3").string() +
                                       " --input " + (dir / "g.fa").string());
  EXPECT_EQ(encoded.status, 0) << encoded.err;
  EXPECT_NE(encoded.out.find("g2\t13 34 1\n"), std::string::npos) << encoded.out.substr(0, 200);

  const auto corpus = genolm(dir, "corpus --tokenizer " + (dir / "k3").string() + " --input " +
                                      (dir / "g.fa").string() + " --out " +
                                      (dir / "corpus").string() + " --valid-fraction 0.1");
  ASSERT_EQ(corpus.status, 0) << corpus.err;
  const auto manifest = nlohmann::json::parse(test::read_text(dir / "corpus" / "corpus.json"));
  EXPECT_GT(manifest["splits"]["valid"]["tokens"].get<int>(), 0);
  EXPECT_EQ(manifest["inputs"][0]["records"], 2);

  const auto bpe =
      genolm(dir, "tokenizer train --kind bpe --vocab-size 64 --piece-bases 512 --input " +
                      (dir / "g.fa").string() + " --out " + (dir / "bpe").string());
  EXPECT_EQ(bpe.status, 0) << bpe.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "bpe" / "sentencepiece.model"));
}

// A pipe is an input like a file: a corpus built from gzip FASTA or a table on standard input
// holds the file's tokens, and tokenizer encode reads one.
TEST(Cli, StandardInputBuildsTheSameCorpus) {
  test::TempDir dir;
  std::string fasta, table = "id\tsequence\n";
  for (unsigned i = 0; i < 30; ++i) {
    const std::string sequence = test::random_dna(300 + i, 40 + i);
    fasta += test::fasta_record("r" + std::to_string(i), sequence);
    table += "r" + std::to_string(i) + "\t" + sequence + "\n";
  }
  test::write_text(dir / "g.fa", fasta);
  test::write_text(dir / "g.tsv", table);
  const auto build = [&](const std::string& input, const std::string& out,
                         const std::string& source) {
    return genolm(
        dir, "corpus --input " + input + " --out " + (dir / out).string() + " --valid-fraction 0.1",
        source);
  };
  ASSERT_EQ(build((dir / "g.fa").string(), "from_file", "").status, 0);
  const auto fasta_pipe = build("-", "from_fasta_pipe", "gzip -c " + (dir / "g.fa").string());
  ASSERT_EQ(fasta_pipe.status, 0) << fasta_pipe.err;
  const auto table_pipe = build("-", "from_table_pipe", "cat " + (dir / "g.tsv").string());
  ASSERT_EQ(table_pipe.status, 0) << table_pipe.err;
  for (const char* name : {"from_fasta_pipe", "from_table_pipe"}) {
    for (const char* shard : {"train-00000.u16", "valid-00000.u16"}) {
      ASSERT_TRUE(std::filesystem::exists(dir / name / shard)) << name << " " << shard;
      EXPECT_EQ(test::read_text(dir / name / shard), test::read_text(dir / "from_file" / shard))
          << name << " " << shard;
    }
  }
  const auto manifest =
      nlohmann::json::parse(test::read_text(dir / "from_table_pipe" / "corpus.json"));
  EXPECT_EQ(manifest["inputs"][0]["path"], "-");
  EXPECT_EQ(manifest["inputs"][0]["format"], "table");

  const auto encoded = genolm(
      dir,
      "tokenizer encode --tokenizer " + (dir / "from_file" / "tokenizer").string() + " --input -",
      "cat " + (dir / "g.fa").string());
  EXPECT_EQ(encoded.status, 0) << encoded.err;
  EXPECT_EQ(std::count(encoded.out.begin(), encoded.out.end(), '\n'), 30);
  // Nothing piped in: an empty input, named as such.
  expect_clear_error(genolm(dir, "corpus --input - --out " + (dir / "none").string()), "-: empty");
}

TEST(Cli, RecipeDrivesTheCorpusAndDumps) {
  test::TempDir dir;
  test::write_text(dir / "g.fa", ">g\n" + test::random_dna(5000, 2) + "\n");
  test::write_text(dir / "r.toml",
                   "[data]\ntrain = [\"" + (dir / "g.fa").string() +
                       "\"]\nvalid_fraction = 0.0\n[tokenizer]\nkind = \"kmer\"\nk = 4\n");
  const auto dump = genolm(dir, "corpus --config " + (dir / "r.toml").string() +
                                    " --set tokenizer.stride=2 --dump-config");
  EXPECT_EQ(dump.status, 0) << dump.err;
  EXPECT_NE(dump.out.find("k = 4"), std::string::npos) << dump.out;
  EXPECT_NE(dump.out.find("stride = 2"), std::string::npos) << dump.out;
  const auto built = genolm(dir, "corpus --config " + (dir / "r.toml").string() +
                                     " --set tokenizer.stride=2 --out " + (dir / "c").string());
  ASSERT_EQ(built.status, 0) << built.err;
  const auto manifest = nlohmann::json::parse(test::read_text(dir / "c" / "corpus.json"));
  EXPECT_EQ(manifest["tokenizer"]["parameters"]["k"], 4);
  EXPECT_EQ(manifest["tokenizer"]["parameters"]["stride"], 2);
  EXPECT_EQ(manifest["splits"]["train"]["tokens"], 1 + (5000 - 4) / 2 + 1);
}

TEST(Cli, BadInputsGiveOneClearLine) {
  test::TempDir dir;
  const auto k3 = (dir / "k3").string();
  ASSERT_EQ(genolm(dir, "tokenizer train --kind kmer --out " + k3).status, 0);
  const auto encode = [&](const std::string& file) {
    return genolm(dir, "tokenizer encode --tokenizer " + k3 + " --input " + (dir / file).string());
  };

  expect_clear_error(encode("missing.fa"), "missing.fa: no such file");
  test::write_text(dir / "empty.fa", "");
  expect_clear_error(encode("empty.fa"), "empty.fa: empty file");
  test::write_text(dir / "headless.fa", "ACGT\n");
  expect_clear_error(encode("headless.fa"), "headless.fa line 1: expected a FASTA header");
  test::write_text(dir / "bad.fq", "@r\nACGT\n+\nII\n");
  expect_clear_error(encode("bad.fq"), "quality line has 2 characters, expected 4");
  test::write_gzip(dir / "whole.gz", ">r\n" + test::random_dna(300000, 3) + "\n");
  const std::string gz = test::read_text(dir / "whole.gz");
  test::write_text(dir / "cut.fa.gz", gz.substr(0, gz.size() / 3));
  expect_clear_error(encode("cut.fa.gz"), "cut.fa.gz: the gzip stream is truncated");
  test::write_text(dir / "blob.fa", std::string("\x7f"
                                                "ELF\x02\x01\x01\x00\x00\x00",
                                                10));
  expect_clear_error(encode("blob.fa"), "blob.fa: looks like a binary file");

  expect_clear_error(
      genolm(dir, "tokenizer train --kind kmer --k 9 --out " + (dir / "k9").string()),
      "k=9 is out of range (expected 1 to 8)");
  expect_clear_error(
      genolm(dir, "tokenizer train --kind kmer --k 3 --stride 4 --out " + (dir / "s4").string()),
      "stride 4 is out of range for k=3");
  expect_clear_error(genolm(dir, "tokenizer encode --tokenizer " + dir.path().string() +
                                     " --input " + (dir / "empty.fa").string()),
                     "not a genolm tokenizer folder");
  test::write_text(
      dir / "k3" / "tokenizer.json",
      test::read_text(dir / "k3" / "tokenizer.json")
          .replace(test::read_text(dir / "k3" / "tokenizer.json").find("\"format_version\": 1"), 19,
                   "\"format_version\": 7"));
  expect_clear_error(encode("empty.fa"), "tokenizer format version 7");

  test::write_text(dir / "typo.toml", "[data]\nvalid_fractoin = 0.1\n");
  expect_clear_error(
      genolm(dir, "corpus --config " + (dir / "typo.toml").string() + " --dump-config"),
      "typo.toml line 2: unknown key 'data.valid_fractoin' (did you mean 'data.valid_fraction'?)");
  expect_clear_error(genolm(dir, "pretrain --set train.batch_size=many --dump-config"),
                     "key 'train.batch_size' expects an integer");
  expect_clear_error(genolm(dir, "corpus --set tokenizer.kind=word --dump-config"),
                     "'word' is not one of kmer, nucleotide, protein, bpe, unigram");
}

// A recipe key the command does not read is an error naming the key and the command; a
// pretraining recipe still builds its corpus, and a command's dump holds the keys it reads.
TEST(Cli, AKeyTheCommandDoesNotReadIsAClearError) {
  test::TempDir dir;
  expect_clear_error(genolm(dir, "pretrain --set task.train=x.tsv --dump-config"),
                     "--set: recipe key 'task.train' is not read by 'genolm pretrain': labelled "
                     "tables are fine-tuning's");
  expect_clear_error(genolm(dir, "pretrain --set encoder.from=runs/x --dump-config"),
                     "recipe key 'encoder.from' is not read by 'genolm pretrain': pretraining "
                     "starts from random weights");
  expect_clear_error(genolm(dir, "finetune --set train.lr=1e-3 --dump-config"),
                     "--set: recipe key 'train.lr' is not read by 'genolm finetune': fine-tuning's "
                     "learning rates are finetune.stage_lrs");
  const auto finetune = genolm(dir, "finetune --set encoder.from=runs/x --dump-config");
  EXPECT_EQ(finetune.status, 0) << finetune.err;
  EXPECT_NE(finetune.out.find("[encoder]"), std::string::npos) << finetune.out;
  EXPECT_EQ(finetune.out.find("\nlr = "), std::string::npos) << finetune.out;
  expect_clear_error(genolm(dir, "corpus --set train.lr=0.1 --dump-config"),
                     "--set: recipe key 'train.lr' is not read by 'genolm corpus'");
  test::write_text(dir / "lm.toml", "[tokenizer]\nk = 4\n[model]\nlayers = 2\n");
  const auto dump = genolm(dir, "corpus --config " + (dir / "lm.toml").string() + " --dump-config");
  EXPECT_EQ(dump.status, 0) << dump.err;
  EXPECT_NE(dump.out.find("k = 4"), std::string::npos) << dump.out;
  EXPECT_EQ(dump.out.find("[model]"), std::string::npos) << dump.out;
  test::write_text(dir / "task.toml", "[task]\ntrain = \"x.tsv\"\n");
  expect_clear_error(
      genolm(dir, "corpus --config " + (dir / "task.toml").string() + " --dump-config"),
      "task.toml line 2: recipe key 'task.train' is not read by 'genolm corpus'");
}

TEST(Cli, TrainingCommandsCheckTheirArguments) {
  test::TempDir dir;
  expect_clear_error(genolm(dir, "launch --nproc 2 --"), "needs the worker command after '--'");
  expect_clear_error(genolm(dir, "finetune"), "task.train is empty");
  expect_clear_error(genolm(dir, "embed --model x --input y.fa"), "model folder x does not exist");
  const auto dump = genolm(dir, "finetune --set model.arch=transformer --dump-config");
  EXPECT_EQ(dump.status, 0);
  EXPECT_NE(dump.out.find("arch = \"transformer\""), std::string::npos);
  EXPECT_NE(dump.out.find("stage_lrs = [ 0.02, 0.01, 0.005, 0.005 ]"), std::string::npos)
      << dump.out;
}

}  // namespace
}  // namespace genolm
