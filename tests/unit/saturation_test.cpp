// Saturation mutagenesis' bookkeeping: regions, the substitutions of a sequence, and mutants.
#include <gtest/gtest.h>

#include "support/test_files.h"
#include "variants/saturation.h"

namespace genolm::variants {
namespace {

TEST(Saturation, RegionsAreOneBasedInclusiveAndClippedToTheSequence) {
  const auto spec = parse_region("3-5");
  const auto region = clipped(spec, 10, "r");
  EXPECT_EQ(region.first, 2u);
  EXPECT_EQ(region.end, 5u);
  EXPECT_EQ(clipped(parse_region("8-20"), 10, "r").end, 10u);
  const auto whole = clipped(parse_region(""), 10, "r");
  EXPECT_EQ(whole.first, 0u);
  EXPECT_EQ(whole.end, 10u);
  EXPECT_NE(test::error_of([&] {
              clipped(parse_region("11-12"), 10, "rec7");
            }).find("record 'rec7' has 10 letters"),
            std::string::npos);
}

TEST(Saturation, MalformedRegionsAreClearErrors) {
  for (const char* text : {"5", "a-b", "0-4", "4-", "-4", "3-2", "1-2-3"}) {
    EXPECT_NE(test::error_of([&] { parse_region(text); }).find("--region '"), std::string::npos)
        << text;
  }
}

TEST(Saturation, EverySubstitutionButTheReferenceLetterInPositionOrder) {
  const std::string letters = substitution_letters(tokenizers::SequenceAlphabet::dna);
  ASSERT_EQ(letters, "ACGT");
  const auto cells = single_substitutions("acNu", {0, 4}, letters);
  // a: 3, c: 3, N: all 4 (no letter is the reference), u (T in DNA): 3.
  ASSERT_EQ(cells.size(), 13u);
  EXPECT_EQ(cells[0].position, 0u);
  EXPECT_EQ(cells[0].reference, 'A');
  EXPECT_EQ(letters[cells[0].letter], 'C');
  EXPECT_EQ(cells[6].reference, 'N');
  for (const auto& cell : cells) {
    if (cell.position == 3) {
      EXPECT_NE(letters[cell.letter], 'T');
    }
  }
  EXPECT_EQ(mutated("acNu", cells[0], letters), "CcNu");
  const std::string amino = substitution_letters(tokenizers::SequenceAlphabet::protein);
  EXPECT_EQ(amino.size(), 20u);
  // In a protein U is selenocysteine, not T: threonine stays among its substitutions.
  EXPECT_EQ(single_substitutions("U", {0, 1}, amino).size(), 20u);
  EXPECT_EQ(single_substitutions("MKV", {1, 2}, amino).size(), 19u);
}

}  // namespace
}  // namespace genolm::variants
