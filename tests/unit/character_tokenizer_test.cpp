#include "genolm/tokenizers/character.h"

#include <gtest/gtest.h>

namespace genolm::tokenizers {
namespace {

TEST(NucleotideTokenizer, OneTokenPerBase) {
  const auto tokenizer = CharacterTokenizer::nucleotide();
  EXPECT_EQ(tokenizer.vocab_size(), SpecialIds::count + 4);
  EXPECT_EQ(tokenizer.encode("ACGTacgu"), (std::vector<std::int32_t>{7, 8, 9, 10, 7, 8, 9, 10}));
  EXPECT_EQ(tokenizer.encode("NR")[0], SpecialIds::unk);
  EXPECT_EQ(tokenizer.decode(tokenizer.encode("GATTACA")), "GATTACA");
  EXPECT_EQ(tokenizer.decode(tokenizer.encode("GANTA")), "GANTA");
}

TEST(ProteinTokenizer, TwentyAminoAcidsPlusX) {
  const auto tokenizer = CharacterTokenizer::protein();
  EXPECT_EQ(tokenizer.vocab_size(), SpecialIds::count + 21);
  const std::string amino_acids = "ACDEFGHIKLMNPQRSTVWY";
  const auto ids = tokenizer.encode(amino_acids);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(ids[i], SpecialIds::count + static_cast<std::int32_t>(i));
  }
  EXPECT_EQ(tokenizer.decode(ids), amino_acids);
  const std::int32_t x = tokenizer.encode("X")[0];
  for (const char rare : std::string("BZJUObzjuo")) {
    EXPECT_EQ(tokenizer.encode(std::string(1, rare))[0], x) << rare;
  }
  EXPECT_EQ(tokenizer.encode("*")[0], SpecialIds::unk);
  EXPECT_EQ(tokenizer.encode("qvql"), tokenizer.encode("QVQL"));
}

TEST(ProteinTokenizer, HeavyAndLightChainsJoinedBySeparator) {
  const auto tokenizer = CharacterTokenizer::protein();
  const auto ids = tokenizer.encode_pair("EVQL", "DIQM");
  ASSERT_EQ(ids.size(), 9u);
  EXPECT_EQ(ids[4], SpecialIds::sep);
  EXPECT_EQ(tokenizer.decode(ids), "EVQL<sep>DIQM");
}

}  // namespace
}  // namespace genolm::tokenizers
