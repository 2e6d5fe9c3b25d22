#include <gtest/gtest.h>

#include "genolm/tokenizers/alphabet.h"
#include "support/test_files.h"

namespace genolm::tokenizers {
namespace {

TEST(ReverseComplement, ComplementsAndReverses) {
  EXPECT_EQ(reverse_complement("ACGT"), "ACGT");
  EXPECT_EQ(reverse_complement("AACG"), "CGTT");
  EXPECT_EQ(reverse_complement(""), "");
}

TEST(ReverseComplement, KeepsSoftMaskingAndHandlesIupac) {
  EXPECT_EQ(reverse_complement("acgTN"), "NAcgt");
  EXPECT_EQ(reverse_complement("RYKMBVDHSW"), "WSDHBVKMRY");
  EXPECT_EQ(reverse_complement("U"), "A");
}

TEST(ReverseComplement, IsAnInvolution) {
  const std::string dna = test::random_dna(1000, 7) + "NNRYacgt";
  EXPECT_EQ(reverse_complement(reverse_complement(dna)), dna);
}

}  // namespace
}  // namespace genolm::tokenizers
