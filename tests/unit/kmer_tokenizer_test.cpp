#include "genolm/tokenizers/kmer.h"

#include <gtest/gtest.h>

#include "genolm/error.h"
#include "support/test_files.h"

namespace genolm::tokenizers {
namespace {

// The reference: Genomic-ULMFiT's tokenization, written the plain way (one window at a time).
std::vector<std::int32_t> reference_kmers(const std::string& dna, int k, int stride) {
  std::vector<std::int32_t> ids;
  for (std::size_t start = 0; start + k <= dna.size(); start += stride) {
    std::int32_t code = 0;
    bool clean = true;
    for (int i = 0; i < k; ++i) {
      const auto position = std::string_view("ACGT").find(std::toupper(dna[start + i]));
      if (position == std::string_view::npos) clean = false;
      code = code * 4 + static_cast<std::int32_t>(clean ? position : 0);
    }
    ids.push_back(clean ? SpecialIds::count + code : SpecialIds::unk);
  }
  return ids;
}

TEST(KmerTokenizer, VocabularyIsEveryKmerAfterTheSpecials) {
  for (int k = 1; k <= 8; ++k) {
    EXPECT_EQ(KmerTokenizer(k, 1).vocab_size(), SpecialIds::count + (1 << (2 * k)));
  }
  const KmerTokenizer three(3, 1);
  EXPECT_EQ(three.id_to_token(SpecialIds::count), "AAA");
  EXPECT_EQ(three.id_to_token(three.vocab_size() - 1), "TTT");
  EXPECT_EQ(three.id_to_token(SpecialIds::sep), "<sep>");
  EXPECT_EQ(three.encode("ACG"), std::vector<std::int32_t>{SpecialIds::count + 0 * 16 + 1 * 4 + 2});
}

TEST(KmerTokenizer, MatchesThePlainReferenceForEveryKAndStride) {
  const std::string dna = test::random_dna(503, 3) + "ACGNTACGTRYACGTAC" + "acgtgca";
  for (int k = 1; k <= 8; ++k) {
    for (int stride = 1; stride <= k; ++stride) {
      EXPECT_EQ(KmerTokenizer(k, stride).encode(dna), reference_kmers(dna, k, stride))
          << "k=" << k << " stride=" << stride;
    }
  }
}

TEST(KmerTokenizer, WindowWithAnAmbiguousBaseIsUnknown) {
  const KmerTokenizer tokenizer(3, 1);
  const auto ids = tokenizer.encode("ACNGT");
  ASSERT_EQ(ids.size(), 3u);
  for (const auto id : ids)
    EXPECT_EQ(id, SpecialIds::unk);
  EXPECT_EQ(tokenizer.encode("ACGNACG")[0], tokenizer.encode("ACG")[0]);
}

TEST(KmerTokenizer, LowercaseAndUReadAsTheirBases) {
  const KmerTokenizer tokenizer(4, 2);
  EXPECT_EQ(tokenizer.encode("acgtac"), tokenizer.encode("ACGTAC"));
  EXPECT_EQ(tokenizer.encode("ACGU"), tokenizer.encode("ACGT"));
}

TEST(KmerTokenizer, TailShorterThanAWindowGivesNoToken) {
  EXPECT_TRUE(KmerTokenizer(5, 1).encode("ACGT").empty());
  EXPECT_EQ(KmerTokenizer(3, 3).encode("ACGTACGT").size(), 2u);
}

TEST(KmerTokenizer, DecodeRoundTrips) {
  const std::string dna = test::random_dna(64 * 3 + 1, 11);
  for (int k = 1; k <= 8; ++k) {
    for (int stride = 1; stride <= k; ++stride) {
      const KmerTokenizer tokenizer(k, stride);
      // Only the bases covered by windows come back.
      const std::size_t windows = (dna.size() - k) / stride + 1;
      const std::size_t covered = (windows - 1) * stride + k;
      EXPECT_EQ(tokenizer.decode(tokenizer.encode(dna)), dna.substr(0, covered))
          << "k=" << k << " stride=" << stride;
    }
  }
}

TEST(KmerTokenizer, StreamingInPiecesEqualsOneCall) {
  const std::string dna = test::random_dna(10007, 5);
  for (auto [k, stride] : {std::pair{3, 1}, {6, 4}, {8, 8}, {5, 2}}) {
    const KmerTokenizer tokenizer(k, stride);
    std::vector<std::int32_t> streamed;
    std::string buffer;
    for (std::size_t start = 0; start < dna.size(); start += 777) {
      buffer += dna.substr(start, 777);
      const auto cut = tokenizer.stream_split(buffer.size());
      tokenizer.encode_into(std::string_view(buffer).substr(0, cut.encode_bases), streamed);
      buffer.erase(0, cut.next_start);
    }
    // What is left is shorter than a window, so encoding it adds nothing.
    tokenizer.encode_into(buffer, streamed);
    EXPECT_EQ(streamed, tokenizer.encode(dna)) << "k=" << k << " stride=" << stride;
  }
}

TEST(KmerTokenizer, PairIsJoinedBySeparator) {
  const KmerTokenizer tokenizer(2, 2);
  const auto ids = tokenizer.encode_pair("ACGT", "TT");
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids[2], SpecialIds::sep);
}

TEST(KmerTokenizer, RejectsKOutsideOneToEight) {
  EXPECT_THROW(KmerTokenizer(0, 1), Error);
  try {
    KmerTokenizer(9, 1);
    FAIL() << "k=9 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("k=9"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1 to 8"), std::string::npos) << e.what();
  }
}

TEST(KmerTokenizer, RejectsStrideLargerThanK) {
  try {
    KmerTokenizer(3, 4);
    FAIL() << "stride 4 > k 3 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("stride 4"), std::string::npos) << e.what();
  }
  EXPECT_THROW(KmerTokenizer(3, 0), Error);
}

}  // namespace
}  // namespace genolm::tokenizers
