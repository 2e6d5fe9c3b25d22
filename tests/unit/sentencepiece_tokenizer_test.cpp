#include "genolm/tokenizers/sentencepiece.h"

#include <gtest/gtest.h>

#include "genolm/error.h"
#include "support/test_files.h"

namespace genolm::tokenizers {
namespace {

// DNA with repeated motifs, so BPE has merges worth learning.
std::string motif_dna(std::size_t length, unsigned seed) {
  const std::string motifs[] = {"TATAAT", "TTGACA", "GGCGCC", "CACGTG"};
  std::string random = test::random_dna(length, seed);
  for (std::size_t i = 0; i + 6 < length; i += 23)
    random.replace(i, 6, motifs[(i / 23) % 4]);
  return random;
}

SentenceSource sentences_of(std::vector<std::string> sentences) {
  auto shared = std::make_shared<std::vector<std::string>>(std::move(sentences));
  auto next = std::make_shared<std::size_t>(0);
  return [shared, next](std::string& sentence) {
    if (*next == shared->size()) return false;
    sentence = (*shared)[(*next)++];
    return true;
  };
}

std::vector<std::string> training_pieces(std::size_t count, std::size_t length) {
  std::vector<std::string> pieces;
  for (std::size_t i = 0; i < count; ++i)
    pieces.push_back(motif_dna(length, 100 + i));
  return pieces;
}

SentencePieceOptions small_options(const std::string& kind) {
  SentencePieceOptions options;
  options.kind = kind;
  options.vocab_size = 64;
  options.piece_bases = 256;
  options.max_train_pieces = 1000;
  return options;
}

class SentencePieceKinds : public ::testing::TestWithParam<std::string> {};

TEST_P(SentencePieceKinds, TrainsWithGenolmSpecialsAndRoundTrips) {
  SentencePieceTrainStats stats;
  const auto tokenizer = SentencePieceTokenizer::train(
      small_options(GetParam()), sentences_of(training_pieces(60, 256)), &stats);
  EXPECT_EQ(stats.sentences, 60u);
  EXPECT_EQ(stats.bases, 60u * 256u);
  EXPECT_EQ(tokenizer->kind(), GetParam());
  EXPECT_EQ(tokenizer->vocab_size(), 64);
  for (std::int32_t id = 0; id < SpecialIds::count; ++id) {
    EXPECT_EQ(tokenizer->id_to_token(id), kSpecialNames[id]);
  }
  const std::string dna = motif_dna(1000, 999);
  const auto ids = tokenizer->encode(dna);
  EXPECT_LT(ids.size(), dna.size()) << "no merges were learned";
  for (const auto id : ids)
    EXPECT_GE(id, SpecialIds::count);
  EXPECT_EQ(tokenizer->decode(ids), dna);
  // Soft-masked input encodes as its upper-case form.
  std::string lower = dna;
  for (char& c : lower)
    c = static_cast<char>(std::tolower(c));
  EXPECT_EQ(tokenizer->encode(lower), ids);
}

INSTANTIATE_TEST_SUITE_P(BpeAndUnigram, SentencePieceKinds, ::testing::Values("bpe", "unigram"));

TEST(SentencePieceTokenizer, LongSequencesEncodeAsTheirPieces) {
  const auto tokenizer =
      SentencePieceTokenizer::train(small_options("bpe"), sentences_of(training_pieces(40, 256)));
  const std::string dna = motif_dna(256 * 3 + 100, 5);
  std::vector<std::int32_t> by_piece;
  for (std::size_t start = 0; start < dna.size(); start += 256) {
    tokenizer->encode_into(dna.substr(start, 256), by_piece);
  }
  EXPECT_EQ(tokenizer->encode(dna), by_piece);
  const auto cut = tokenizer->stream_split(700);
  EXPECT_EQ(cut.encode_bases, 512u);
  EXPECT_EQ(cut.next_start, 512u);
}

TEST(SentencePieceTokenizer, SavesAndLoadsByFolder) {
  test::TempDir dir;
  const auto trained = SentencePieceTokenizer::train(small_options("unigram"),
                                                     sentences_of(training_pieces(40, 256)));
  trained->save(dir / "spm");
  const auto loaded = load_tokenizer(dir / "spm");
  EXPECT_EQ(loaded->kind(), "unigram");
  const std::string dna = motif_dna(3000, 17);
  EXPECT_EQ(loaded->encode(dna), trained->encode(dna));
}

TEST(SentencePieceTokenizer, RefusesASentenceItWouldSkip) {
  // SentencePiece drops over-long sentences silently; genolm must say so instead.
  auto options = small_options("bpe");
  try {
    SentencePieceTokenizer::train(options, sentences_of({motif_dna(200, 1), motif_dna(300, 2)}));
    FAIL() << "an over-long sentence was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("300 characters"), std::string::npos) << e.what();
  }
}

TEST(SentencePieceTokenizer, NoInputIsAnError) {
  EXPECT_THROW(SentencePieceTokenizer::train(small_options("bpe"), sentences_of({})), Error);
}

TEST(SentencePieceTokenizer, ModelFileThatIsNotAModelIsAnError) {
  test::TempDir dir;
  test::write_text(dir / "bad.model", "this is not a protobuf");
  EXPECT_THROW(SentencePieceTokenizer("bpe", dir / "bad.model", 256), Error);
}

}  // namespace
}  // namespace genolm::tokenizers
