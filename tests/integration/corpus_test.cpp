// A token corpus end to end, from FASTA files the test writes.
#include <gtest/gtest.h>

#include <cmath>

#include "data/corpus_builder.h"
#include "data/markov_baseline.h"
#include "data/token_corpus.h"
#include "data/tokenizer_factory.h"
#include "genolm/error.h"
#include "genolm/tokenizers/character.h"
#include "genolm/tokenizers/kmer.h"
#include "support/test_files.h"

namespace genolm::data {
namespace {

using tokenizers::SpecialIds;

struct Fixture {
  test::TempDir dir;
  std::vector<std::string> segments;  // the sequence pieces a corpus must hold, in order
  std::vector<std::filesystem::path> inputs;

  Fixture() {
    // Two files, one gzipped: a long record with a long N run and soft-masking, short records,
    // an empty record, and a record with a short N run that stays.
    const std::string a = test::random_dna(30000, 1);
    const std::string b = test::random_dna(12000, 2);
    std::string lower_b = b.substr(0, 500);
    for (char& c : lower_b)
      c = static_cast<char>(std::tolower(c));
    std::string first = ">chr1 long\n";
    const std::string chr1 = a + std::string(200, 'N') + lower_b + b.substr(500);
    for (std::size_t i = 0; i < chr1.size(); i += 60)
      first += chr1.substr(i, 60) + "\n";
    first += ">empty\n>short\nACGTACGTAC\n";
    test::write_text(dir / "one.fa", first);
    const std::string c = test::random_dna(5000, 3) + "NNN" + test::random_dna(4000, 4);
    test::write_gzip(dir / "two.fa.gz", ">chr2\n" + c + "\n");
    inputs = {dir / "one.fa", dir / "two.fa.gz"};
    segments = {a, b, "ACGTACGTAC", c};
  }
};

CorpusOptions options_for(const Fixture& fixture, const std::string& name, int threads) {
  CorpusOptions options;
  options.inputs = fixture.inputs;
  options.out = fixture.dir / name;
  options.threads = threads;
  options.work_bases = 1000;    // many tasks, so ordering across threads is exercised
  options.shard_tokens = 7000;  // several shards
  return options;
}

std::vector<std::int32_t> all_tokens(const TokenSplit& split) {
  std::vector<std::int32_t> tokens(split.size());
  split.read(0, tokens.size(), tokens.data());
  return tokens;
}

TEST(Corpus, WithoutValidSplitHoldsEverySegmentInOrder) {
  Fixture fixture;
  const tokenizers::KmerTokenizer tokenizer(3, 1);
  auto options = options_for(fixture, "corpus", 2);
  options.valid_fraction = 0;
  const auto manifest = build_corpus(tokenizer, options);

  std::vector<std::int32_t> expected;
  std::uint64_t bases = 0;
  for (const auto& segment : fixture.segments) {
    expected.push_back(SpecialIds::bos);
    tokenizer.encode_into(segment, expected);
    bases += segment.size();
  }
  const TokenCorpus corpus(fixture.dir / "corpus");
  EXPECT_EQ(all_tokens(corpus.train()), expected);
  EXPECT_EQ(corpus.valid().size(), 0u);
  EXPECT_EQ(manifest["splits"]["train"]["bases"], bases);
  EXPECT_EQ(manifest["splits"]["train"]["pieces"], fixture.segments.size());
  EXPECT_GT(manifest["splits"]["train"]["shards"].size(), 1u);
  EXPECT_EQ(manifest["inputs"][0]["records"], 3);
  EXPECT_EQ(manifest["inputs"][0]["empty_records"], 1);
  EXPECT_EQ(manifest["inputs"][0]["dropped_n_bases"], 200);
  EXPECT_EQ(manifest["token_bytes"], 2);
  EXPECT_EQ(tokenizers::load_tokenizer(corpus.tokenizer_dir())->kind(), "kmer");
}

TEST(Corpus, ValidSplitTakesWholeBlocksNeverInterleavedTokens) {
  Fixture fixture;
  // Single bases decode exactly (N included), so every piece can be found in the input.
  const auto tokenizer = tokenizers::CharacterTokenizer::nucleotide();
  auto options = options_for(fixture, "corpus", 2);
  options.valid_fraction = 0.2;
  options.valid_block_bases = 1000;
  const auto manifest = build_corpus(tokenizer, options);
  const TokenCorpus corpus(fixture.dir / "corpus");

  std::string all_input;
  std::uint64_t input_bases = 0;
  for (const auto& segment : fixture.segments) {
    all_input += segment + "|";
    input_bases += segment.size();
  }
  const std::uint64_t train_bases = manifest["splits"]["train"]["bases"];
  const std::uint64_t valid_bases = manifest["splits"]["valid"]["bases"];
  EXPECT_EQ(train_bases + valid_bases, input_bases);
  EXPECT_NEAR(static_cast<double>(valid_bases) / input_bases, 0.2, 0.05);

  // Every piece (from one <bos> to the next) decodes to a contiguous stretch of one input segment.
  for (const TokenSplit* split : {&corpus.train(), &corpus.valid()}) {
    const auto tokens = all_tokens(*split);
    ASSERT_FALSE(tokens.empty());
    ASSERT_EQ(tokens.front(), SpecialIds::bos);
    std::size_t start = 0;
    while (start < tokens.size()) {
      std::size_t end = start + 1;
      while (end < tokens.size() && tokens[end] != SpecialIds::bos)
        ++end;
      const std::string piece =
          tokenizer.decode(std::span(tokens).subspan(start + 1, end - start - 1));
      EXPECT_NE(all_input.find(piece), std::string::npos) << "piece at token " << start;
      start = end;
    }
  }
}

// corpus.json records the Markov chains of its own splits: the figures of chains fitted on the
// train tokens and scored on the valid tokens, as data/markov_baseline.h defines them.
TEST(Corpus, RecordsTheMarkovChainsFittedOnItsTrainSplit) {
  Fixture fixture;
  const tokenizers::KmerTokenizer tokenizer(3, 1);
  auto options = options_for(fixture, "corpus", 2);
  options.valid_fraction = 0.2;
  options.valid_block_bases = 1000;
  const auto manifest = build_corpus(tokenizer, options);
  const TokenCorpus corpus(fixture.dir / "corpus");

  MarkovChains chains(markov_spec(tokenizer));
  chains.fit(all_tokens(corpus.train()));
  chains.score(all_tokens(corpus.valid()));
  const auto expected = chains.results();
  const auto& markov = manifest.at("markov");
  EXPECT_EQ(markov["successors"], 4);
  EXPECT_EQ(markov["order_unit"], "bases");
  ASSERT_EQ(markov["orders"].size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& order = markov["orders"][i];
    EXPECT_EQ(order["context_tokens"], expected[i].context_tokens);
    EXPECT_EQ(order["order"], i == 0 ? 3 : 8);
    EXPECT_EQ(order["predicted_tokens"], expected[i].predicted);
    EXPECT_DOUBLE_EQ(order["forward"].get<double>(), expected[i].forward_loss);
    EXPECT_DOUBLE_EQ(order["backward"].get<double>(), expected[i].backward_loss);
    // Random bases: no chain does much better than a uniform guess at the new base.
    EXPECT_GT(order["forward"].get<double>(), std::log(4.0) - 0.05);
  }
  EXPECT_EQ(TokenCorpus(fixture.dir / "corpus").manifest()["markov"], markov);
}

TEST(Corpus, ThreadCountDoesNotChangeTheCorpus) {
  Fixture fixture;
  const tokenizers::KmerTokenizer tokenizer(6, 2);
  build_corpus(tokenizer, options_for(fixture, "one", 1));
  build_corpus(tokenizer, options_for(fixture, "four", 4));
  const TokenCorpus one(fixture.dir / "one");
  const TokenCorpus four(fixture.dir / "four");
  EXPECT_EQ(all_tokens(one.train()), all_tokens(four.train()));
  EXPECT_EQ(all_tokens(one.valid()), all_tokens(four.valid()));
}

TEST(Corpus, SentencePieceCorpusFromTheSameFiles) {
  Fixture fixture;
  TokenizerSpec spec;
  spec.kind = "bpe";
  spec.vocab_size = 64;
  spec.piece_bases = 512;
  const auto tokenizer = make_tokenizer(spec, fixture.inputs);
  auto options = options_for(fixture, "bpe", 2);
  options.valid_fraction = 0;
  build_corpus(*tokenizer, options);
  const TokenCorpus corpus(fixture.dir / "bpe");
  std::vector<std::int32_t> expected;
  for (const auto& segment : fixture.segments) {
    expected.push_back(SpecialIds::bos);
    tokenizer->encode_into(segment, expected);
  }
  EXPECT_EQ(all_tokens(corpus.train()), expected);
  EXPECT_EQ(corpus.manifest()["tokenizer"]["kind"], "bpe");
}

TEST(Corpus, EightMersUseUint32) {
  Fixture fixture;
  const tokenizers::KmerTokenizer tokenizer(8, 8);
  auto options = options_for(fixture, "k8", 2);
  const auto manifest = build_corpus(tokenizer, options);
  EXPECT_EQ(manifest["token_bytes"], 4);
  const TokenCorpus corpus(fixture.dir / "k8");
  for (const auto id : all_tokens(corpus.train()))
    ASSERT_LT(id, tokenizer.vocab_size());
}

// A labelled table serves pretraining too: its sequence column gives the same tokens as FASTA of
// the same records, in the same splits; its labels are not read.
TEST(Corpus, ATableGivesTheSameTokensAsTheEquivalentFasta) {
  test::TempDir dir;
  std::string fasta, tsv = "id\tlabel\tsequence\n", csv = "sequence,label\n";
  for (unsigned i = 0; i < 40; ++i) {
    const std::string sequence = test::random_dna(60 + 7 * i, 100 + i);
    fasta += test::fasta_record("r" + std::to_string(i), sequence);
    tsv += "r" + std::to_string(i) + "\t" + (i % 2 ? "yes" : "no") + "\t" + sequence + "\n";
    csv += sequence + "," + std::to_string(i % 2) + "\n";
  }
  test::write_text(dir / "rows.fa", fasta);
  test::write_gzip(dir / "rows.tsv.gz", tsv);
  test::write_text(dir / "rows.csv", csv);
  const tokenizers::KmerTokenizer tokenizer(3, 1);
  const auto build = [&](const std::string& input, const std::string& name) {
    CorpusOptions options;
    options.inputs = {dir / input};
    options.out = dir / name;
    options.valid_fraction = 0.2;
    return build_corpus(tokenizer, options);
  };
  build("rows.fa", "from_fasta");
  const auto manifest = build("rows.tsv.gz", "from_tsv");
  build("rows.csv", "from_csv");
  const TokenCorpus fasta_corpus(dir / "from_fasta");
  ASSERT_GT(fasta_corpus.valid().size(), 0u);
  for (const char* name : {"from_tsv", "from_csv"}) {
    const TokenCorpus table_corpus(dir / name);
    EXPECT_EQ(all_tokens(table_corpus.train()), all_tokens(fasta_corpus.train())) << name;
    EXPECT_EQ(all_tokens(table_corpus.valid()), all_tokens(fasta_corpus.valid())) << name;
  }
  EXPECT_EQ(manifest["inputs"][0]["format"], "table");
  EXPECT_EQ(manifest["inputs"][0]["records"], 40);
  EXPECT_EQ(manifest["splits"]["train"]["pieces"].get<int>() +
                manifest["splits"]["valid"]["pieces"].get<int>(),
            40);
}

// Two sequence columns are one record each row, joined as fine-tuning joins a pair:
// <bos> heavy <sep> light.
TEST(Corpus, PairedChainsJoinedBySepAsFineTuningJoinsThem) {
  test::TempDir dir;
  test::write_text(dir / "pairs.csv",
                   "id,heavy,light,target\na,ACGTACGT,TTGCA,1.5\nb,GGGCCCAT,ACGTT,2\n");
  const tokenizers::KmerTokenizer tokenizer(3, 1);
  CorpusOptions options;
  options.inputs = {dir / "pairs.csv"};
  options.out = dir / "pairs";
  options.valid_fraction = 0;
  options.sequence_columns = {"heavy", "light"};
  build_corpus(tokenizer, options);
  std::vector<std::int32_t> expected;
  for (const auto& [heavy, light] : std::vector<std::pair<std::string, std::string>>{
           {"ACGTACGT", "TTGCA"}, {"GGGCCCAT", "ACGTT"}}) {
    expected.push_back(SpecialIds::bos);
    const auto pair = tokenizer.encode_pair(heavy, light);
    expected.insert(expected.end(), pair.begin(), pair.end());
  }
  EXPECT_EQ(all_tokens(TokenCorpus(dir / "pairs").train()), expected);

  // A column the table lacks is an error naming the file and the columns there are.
  options.out = dir / "missing";
  options.sequence_columns = {"sequence"};
  const auto message = test::error_of([&] { build_corpus(tokenizer, options); });
  EXPECT_NE(message.find("pairs.csv"), std::string::npos) << message;
  EXPECT_NE(message.find("heavy"), std::string::npos) << message;
  EXPECT_FALSE(std::filesystem::exists(dir / "missing"));
  // Both strands of a pair are not defined.
  options.sequence_columns = {"heavy", "light"};
  options.reverse_complement = true;
  EXPECT_NE(test::error_of([&] { build_corpus(tokenizer, options); }).find("paired chains"),
            std::string::npos);
}

TEST(Corpus, FailedBuildLeavesNoFolderAndExistingOutIsKept) {
  Fixture fixture;
  const tokenizers::KmerTokenizer tokenizer(3, 1);
  test::write_text(fixture.dir / "bad.fa", ">ok\n" + test::random_dna(5000, 9) + "\nACGX\n");
  auto options = options_for(fixture, "broken", 2);
  options.inputs.push_back(fixture.dir / "bad.fa");
  try {
    build_corpus(tokenizer, options);
    FAIL() << "a bad base was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.fa line 3"), std::string::npos) << e.what();
  }
  for (const auto& entry : std::filesystem::directory_iterator(fixture.dir.path())) {
    EXPECT_EQ(entry.path().filename().string().find("broken"), std::string::npos)
        << entry.path() << " was left behind";
  }
  // What a killed build left behind is cleaned up by the next build of the same corpus.
  const auto stale = fixture.dir / ".kept.partial-2147483647";
  std::filesystem::create_directories(stale);
  auto good = options_for(fixture, "kept", 1);
  build_corpus(tokenizer, good);
  EXPECT_FALSE(std::filesystem::exists(stale));
  EXPECT_THROW(build_corpus(tokenizer, good), Error);  // exists, no overwrite
  EXPECT_NO_THROW(TokenCorpus(fixture.dir / "kept"));
}

}  // namespace
}  // namespace genolm::data
