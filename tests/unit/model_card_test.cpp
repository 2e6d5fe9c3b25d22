// model.json: one writer, one reader, versions that keep loading.
#include <gtest/gtest.h>

#include "genolm/tokenizers/kmer.h"
#include "run/model_card.h"
#include "support/test_files.h"
#include "util/files.h"

namespace genolm::run {
namespace {

TEST(ModelCard, AWrittenCardReadsBackWithItsTokenizerVocabulary) {
  test::TempDir dir;
  const tokenizers::KmerTokenizer tokenizer(2, 1);
  ModelCard card;
  card.produced_by = "genolm pretrain test";
  card.encoder = {{"arch", "awd_lstm"}, {"vocab_size", tokenizer.vocab_size()}};
  card.tokenizer = tokenizer_card(tokenizer);
  card.direction = ReadingDirection::backward;
  card.has_language_model = true;
  write_model_card(dir / "model.json", card);

  const auto read = read_model_card(dir / "model.json");
  EXPECT_EQ(read.version, kModelCardVersion);
  EXPECT_EQ(read.produced_by, "genolm pretrain test");
  EXPECT_EQ(read.encoder, card.encoder);
  EXPECT_EQ(read.direction, ReadingDirection::backward);
  EXPECT_TRUE(read.has_language_model);
  EXPECT_FALSE(read.fine_tuned());
  const auto& vocabulary = read.tokenizer.at("vocabulary");
  ASSERT_EQ(vocabulary.size(), static_cast<std::size_t>(tokenizer.vocab_size()));
  EXPECT_EQ(vocabulary[0], tokenizer.id_to_token(0));
  EXPECT_EQ(vocabulary.back(), "TT");
  EXPECT_EQ(read_json_file(dir / "model.json").at("weights").at("language_model"),
            "language_model.safetensors");
}

TEST(ModelCard, AVersionOneCardOfAnOlderRunStillLoads) {
  test::TempDir dir;
  test::write_text(
      dir / "model.json",
      R"({"encoder": {"arch": "awd_lstm", "vocab_size": 71}, "task": "language_model"})");
  const auto card = read_model_card(dir / "model.json");
  EXPECT_EQ(card.version, 1);
  EXPECT_EQ(card.encoder.at("vocab_size"), 71);
  EXPECT_FALSE(card.fine_tuned());
  EXPECT_FALSE(card.has_language_model);
  EXPECT_EQ(card.direction, ReadingDirection::forward);
}

TEST(ModelCard, ACardFromANewerGenolmOrWithoutAnEncoderIsAClearError) {
  test::TempDir dir;
  test::write_text(dir / "newer.json",
                   R"({"format": "genolm-model", "version": 99, "encoder": {"arch": "x"}})");
  EXPECT_NE(test::error_of([&] { read_model_card(dir / "newer.json"); }).find("version 99"),
            std::string::npos);
  test::write_text(dir / "bare.json", R"({"task": "language_model"})");
  EXPECT_NE(test::error_of([&] { read_model_card(dir / "bare.json"); }).find("\"encoder\""),
            std::string::npos);
}

}  // namespace
}  // namespace genolm::run
