// SentencePiece and LibTorch in one process: Debian's SentencePiece carries a protobuf that clashes
// with LibTorch's, so linking both naively crashes at start-up. This binary links LibTorch and
// trains, saves, loads and encodes with SentencePiece through the bridge, then feeds the ids to a
// LibTorch embedding.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "genolm/tokenizers/sentencepiece.h"
#include "support/test_files.h"

namespace genolm {
namespace {

TEST(SentencePieceWithTorch, TrainEncodeAndEmbedInOneProcess) {
  const torch::Tensor warm = torch::randn({4, 4}).matmul(torch::randn({4, 4}));
  ASSERT_EQ(warm.size(0), 4);

  tokenizers::SentencePieceOptions options;
  options.kind = "bpe";
  options.vocab_size = 48;
  options.piece_bases = 128;
  std::size_t produced = 0;
  auto tokenizer = tokenizers::SentencePieceTokenizer::train(options, [&](std::string& sentence) {
    if (produced == 50) return false;
    sentence = test::random_dna(128, static_cast<unsigned>(produced++));
    return true;
  });
  test::TempDir dir;
  tokenizer->save(dir / "bpe");
  const auto loaded = tokenizers::load_tokenizer(dir / "bpe");
  EXPECT_FALSE(tokenizers::sentencepiece_bridge_path().empty());

  const std::string dna = test::random_dna(1000, 77);
  const std::vector<std::int32_t> ids = loaded->encode(dna);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(loaded->decode(ids), dna);

  torch::manual_seed(0);
  torch::nn::Embedding embedding(loaded->vocab_size(), 8);
  const auto input = torch::tensor(std::vector<std::int64_t>(ids.begin(), ids.end()));
  const auto vectors = embedding(input);
  EXPECT_EQ(vectors.size(0), static_cast<std::int64_t>(ids.size()));
  EXPECT_EQ(vectors.size(1), 8);
  EXPECT_TRUE(torch::isfinite(vectors).all().item<bool>());
}

}  // namespace
}  // namespace genolm
