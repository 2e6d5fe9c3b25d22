#include <gtest/gtest.h>

#include <cmath>

#include "data/markov_baseline.h"
#include "genolm/error.h"
#include "genolm/tokenizers/character.h"
#include "genolm/tokenizers/kmer.h"
#include "support/test_files.h"

namespace genolm::data {
namespace {

using tokenizers::SpecialIds;

// Nucleotide ids: A C G T after the 7 specials.
constexpr std::int32_t A = 7, C = 8, G = 9, T = 10;
constexpr std::int32_t bos = SpecialIds::bos, unk = SpecialIds::unk;

MarkovSpec nucleotide_spec() {
  MarkovSpec spec = markov_spec(tokenizers::CharacterTokenizer::nucleotide());
  spec.context_tokens = {1, 2};
  return spec;
}

// Three runs of real tokens (a <bos> and an <unk> end them): ACAC, AA, CG. Bigrams: AC 2, CA 1,
// AA 1, CG 1 (none across a boundary: no CA from "AC <bos> A", no AC from "A <unk> C"). Trigrams:
// ACA 1, CAC 1.
const std::vector<std::int32_t> kTrain = {bos, A, C, A, C, bos, A, A, unk, C, G};
// Valid bigrams AC, CG, TA; one trigram, ACG.
const std::vector<std::int32_t> kValid = {bos, A, C, G, bos, T, A};

TEST(MarkovChains, MatchTheAddOneFormulaComputedByHand) {
  MarkovChains chains(nucleotide_spec());
  chains.fit(kTrain);
  chains.score(kValid);
  const auto results = chains.results();
  ASSERT_EQ(results.size(), 2u);

  // P(w | h) = (c(h w) + 1) / (c(h) + S) with S = 4. Forward contexts: A 3 (AC 2, AA 1), C 2
  // (CA, CG), T 0. Backward contexts (the token after): C 2 (AC 2), A 2 (CA, AA), G 1 (CG).
  const double forward1 = -(std::log((2.0 + 1) / (3 + 4)) + std::log((1.0 + 1) / (2 + 4)) +
                            std::log((0.0 + 1) / (0 + 4))) /
                          3;
  const double backward1 = -(std::log((2.0 + 1) / (2 + 4)) + std::log((1.0 + 1) / (1 + 4)) +
                             std::log((0.0 + 1) / (2 + 4))) /
                           3;
  EXPECT_EQ(results[0].context_tokens, 1);
  EXPECT_EQ(results[0].context_letters, 1);
  EXPECT_TRUE(results[0].skipped.empty()) << results[0].skipped;
  EXPECT_EQ(results[0].predicted, 3u);
  EXPECT_EQ(results[0].distinct_ngrams, 4u);
  EXPECT_NEAR(results[0].forward_loss, forward1, 1e-12);
  EXPECT_NEAR(results[0].backward_loss, backward1, 1e-12);

  // Order 2 scores ACG alone: forward context AC seen once (ACA), ACG never: 1/5; backward
  // context CG never seen: 1/4.
  EXPECT_EQ(results[1].predicted, 1u);
  EXPECT_EQ(results[1].distinct_ngrams, 2u);
  EXPECT_NEAR(results[1].forward_loss, -std::log(1.0 / 5), 1e-12);
  EXPECT_NEAR(results[1].backward_loss, -std::log(1.0 / 4), 1e-12);
}

TEST(MarkovChains, GiveTheSameFiguresWhateverTheBlocksTheTokensArriveIn) {
  MarkovChains whole(nucleotide_spec()), split(nucleotide_spec());
  whole.fit(kTrain);
  whole.score(kValid);
  for (std::size_t i = 0; i < kTrain.size(); ++i)
    split.fit(std::span(kTrain).subspan(i, 1));
  split.score(std::span(kValid).first(3));
  split.score(std::span(kValid).subspan(3));
  for (std::size_t order = 0; order < 2; ++order) {
    EXPECT_EQ(split.results()[order].predicted, whole.results()[order].predicted);
    EXPECT_DOUBLE_EQ(split.results()[order].forward_loss, whole.results()[order].forward_loss);
    EXPECT_DOUBLE_EQ(split.results()[order].backward_loss, whole.results()[order].backward_loss);
  }
}

TEST(MarkovChains, SkipAnOrderThatOutgrowsTheirTableWithTheReason) {
  MarkovSpec spec = nucleotide_spec();
  spec.max_distinct = 3;  // 4 distinct bigrams, 2 trigrams
  MarkovChains chains(spec);
  chains.fit(kTrain);
  chains.score(kValid);
  const auto results = chains.results();
  EXPECT_NE(results[0].skipped.find("more than 3 distinct 2-token windows"), std::string::npos)
      << results[0].skipped;
  EXPECT_TRUE(results[1].skipped.empty());
  EXPECT_NEAR(results[1].forward_loss, -std::log(1.0 / 5), 1e-12);
}

TEST(MarkovChains, SkipAnOrderWhoseWindowsCannotBePackedInAKey) {
  MarkovSpec spec;
  spec.vocab_size = 4096;
  spec.successors = 4089;
  spec.context_tokens = {1, 8};  // 9 tokens of 12 bits
  MarkovChains chains(spec);
  chains.score({});
  const auto results = chains.results();
  EXPECT_NE(results[1].skipped.find("needs 108 bits"), std::string::npos) << results[1].skipped;
  EXPECT_NE(results[0].skipped.find("no run of 2 real tokens"), std::string::npos);
}

TEST(MarkovSpec, OverlappingThreeMersGiveBaseOrdersThreeAndEight) {
  const MarkovSpec spec = markov_spec(tokenizers::KmerTokenizer(3, 1));
  EXPECT_EQ(spec.successors, 4u);  // the overlap fixes 2 of a 3-mer's bases
  ASSERT_EQ(spec.context_tokens, (std::vector<int>{1, 6}));
  EXPECT_EQ(spec.context_letters(1), 3);
  EXPECT_EQ(spec.context_letters(6), 8);
}

TEST(MarkovSpec, TiledKmersNucleotidesAndProteins) {
  const MarkovSpec tiled = markov_spec(tokenizers::KmerTokenizer(3, 3));
  EXPECT_EQ(tiled.successors, 64u);
  EXPECT_EQ(tiled.context_tokens, (std::vector<int>{1, 3}));  // 3 and 9 bases
  EXPECT_EQ(tiled.context_letters(3), 9);

  const MarkovSpec nucleotide = markov_spec(tokenizers::CharacterTokenizer::nucleotide());
  EXPECT_EQ(nucleotide.successors, 4u);
  EXPECT_EQ(nucleotide.context_tokens, (std::vector<int>{1, 8}));

  const MarkovSpec protein = markov_spec(tokenizers::CharacterTokenizer::protein());
  EXPECT_EQ(protein.successors, 21u);  // every amino-acid token
  EXPECT_EQ(protein.context_tokens, (std::vector<int>{1, 2}));
  EXPECT_FALSE(protein.context_letters(1).has_value());
}

TEST(MarkovReferences, NameOrdersByBasesAndReadTheModelsDirection) {
  const auto markov = nlohmann::json::parse(R"({
    "order_unit": "bases", "successors": 4, "smoothing": "add-one",
    "orders": [{"context_tokens": 1, "order": 3, "forward": 1.3, "backward": 1.31},
               {"context_tokens": 6, "order": 8, "skipped": "too big"}]})");
  const auto forward = markov_references(markov, false, "corpus.json");
  ASSERT_EQ(forward.size(), 1u);
  EXPECT_EQ(forward[0].name, "order-3 Markov");
  EXPECT_DOUBLE_EQ(forward[0].loss, 1.3);
  EXPECT_DOUBLE_EQ(markov_references(markov, true, "corpus.json")[0].loss, 1.31);
  const auto malformed = nlohmann::json::parse(R"({"order_unit": "bases", "orders": [{}]})");
  EXPECT_NE(test::error_of([&] {
              markov_references(malformed, false, "corpus.json");
            }).find("corpus.json: malformed \"markov\""),
            std::string::npos);
}

}  // namespace
}  // namespace genolm::data
