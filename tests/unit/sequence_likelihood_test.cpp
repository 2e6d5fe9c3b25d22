// Sequence log-likelihoods (genolm score): the value a hand-made model must give, agreement with
// the model's own training loss, and independence from batching, chunking and padding.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "genolm/tokenizers/specials.h"
#include "models/awd_lstm.h"
#include "models/model_factory.h"
#include "models/transformer.h"
#include "support/torch_threads.h"
#include "train/sequence_likelihood.h"
#include "variants/likelihood_ratio.h"

namespace genolm::train {
namespace {

using Tokens = std::vector<std::vector<std::int32_t>>;

std::shared_ptr<models::LanguageModel> tiny_lstm_model() {
  models::AwdLstmOptions options;
  options.vocab_size = 11;
  options.emb_size = 4;
  options.hidden_size = 6;
  options.layers = 2;
  torch::manual_seed(3);
  auto encoder = models::make_encoder(models::AwdLstm(options).describe());
  auto model = models::make_language_model(encoder, encoder->describe(), 0, 0);
  model->eval();
  return model;
}

std::shared_ptr<models::LanguageModel> tiny_transformer_model() {
  models::TransformerOptions options;
  options.vocab_size = 11;
  options.d_model = 8;
  options.heads = 2;
  options.ff_size = 12;
  options.layers = 2;
  options.context = 16;
  options.dropout = 0;
  torch::manual_seed(5);
  auto encoder = models::make_encoder(models::Transformer(options).describe());
  auto model = models::make_language_model(encoder, encoder->describe(), 0, 0);
  model->eval();
  return model;
}

// The model's mean next-token loss on <bos> + tokens, times the token count, negated: what
// pretraining minimises, read for one whole sequence.
double log_likelihood_by_loss(models::LanguageModel& model,
                              const std::vector<std::int32_t>& tokens) {
  torch::NoGradGuard no_grad;
  std::vector<std::int64_t> inputs{tokenizers::SpecialIds::bos};
  inputs.insert(inputs.end(), tokens.begin(), tokens.end() - 1);
  const std::vector<std::int64_t> targets(tokens.begin(), tokens.end());
  const auto n = static_cast<std::int64_t>(tokens.size());
  model.encoder()->reset();
  const auto loss =
      model.loss(torch::tensor(inputs).view({1, n}), torch::tensor(targets).view({1, n}));
  model.encoder()->reset();
  return -loss.cross_entropy.item<double>() * static_cast<double>(n);
}

const Tokens kSequences = {
    {7, 8, 9, 10, 7, 8, 9}, {9, 9}, {10}, {7, 10, 8, 9, 7, 10, 8, 9, 7, 10, 8}, {8, 7}};

TEST(SequenceLikelihood, AModelBlindToContextGivesEachTokensUnigramLogProbability) {
  auto model = tiny_lstm_model();
  // Every weight zero: the LSTM's states stay zero, so the logits are the decoder's bias alone.
  torch::NoGradGuard no_grad;
  for (auto& parameter : model->parameters())
    parameter.zero_();
  const std::vector<float> bias = {0, 0, 0, 0, 0, 0, 0, 1.0, 2.0, -1.0, 0.5};
  model->named_parameters()["decoder_bias"].copy_(torch::tensor(bias));
  double normaliser = 0;
  for (const float b : bias)
    normaliser += std::exp(static_cast<double>(b));
  const auto scores = sequence_log_likelihoods(*model, {{7, 8, 8, 10}}, {});
  const double expected = 1.0 + 2.0 + 2.0 + 0.5 - 4 * std::log(normaliser);
  EXPECT_NEAR(scores[0].item<double>(), expected, 1e-5);
}

TEST(SequenceLikelihood, IsTheModelsOwnLossOverTheWholeSequence) {
  for (const auto& model : {tiny_lstm_model(), tiny_transformer_model()}) {
    const auto scores = sequence_log_likelihoods(*model, kSequences, {.chunk = 16});
    ASSERT_EQ(scores.size(0), static_cast<std::int64_t>(kSequences.size()));
    for (std::size_t i = 0; i < kSequences.size(); ++i) {
      EXPECT_NEAR(scores[static_cast<std::int64_t>(i)].item<double>(),
                  log_likelihood_by_loss(*model, kSequences[i]), 1e-4)
          << "sequence " << i;
      EXPECT_LT(scores[static_cast<std::int64_t>(i)].item<double>(), 0);
    }
  }
}

// Padding sits after every real token and an LSTM carries its state across chunks, so neither the
// batch size, the chunk length nor the thread count may change a score.
TEST(SequenceLikelihood, DoesNotDependOnBatchSizeChunkLengthOrThreads) {
  auto model = tiny_lstm_model();
  const auto reference =
      sequence_log_likelihoods(*model, kSequences, {.batch_size = 1, .chunk = 70});
  for (const std::int64_t batch_size : {2, 5, 64})
    for (const std::int64_t chunk : {1, 3, 70}) {
      const auto scores =
          sequence_log_likelihoods(*model, kSequences, {.batch_size = batch_size, .chunk = chunk});
      EXPECT_TRUE(torch::allclose(scores, reference, 1e-6, 1e-5))
          << "batch " << batch_size << ", chunk " << chunk;
    }
  test::ScopedTorchThreads two_threads(2);
  EXPECT_TRUE(torch::allclose(sequence_log_likelihoods(*model, kSequences, {.batch_size = 3}),
                              reference, 1e-6, 1e-5));
}

TEST(SequenceLikelihood, LeavesTheModelsTrainingFlagAsItWas) {
  auto model = tiny_lstm_model();
  model->train();
  sequence_log_likelihoods(*model, kSequences, {});
  EXPECT_TRUE(model->is_training());
}

TEST(SequenceLikelihood, TokenLogProbabilitiesSumToTheSequencesAndStopAtItsEnd) {
  auto model = tiny_lstm_model();
  const auto per_token = token_log_probabilities(*model, kSequences, {.batch_size = 2, .chunk = 4});
  const auto totals = sequence_log_likelihoods(*model, kSequences, {});
  ASSERT_EQ(per_token.size(1), 11);
  EXPECT_TRUE(torch::allclose(per_token.sum(1), totals, 1e-6, 1e-5));
  EXPECT_EQ(per_token[2].slice(0, 1).abs().sum().item<double>(), 0.0);  // {10}: one token
}

TEST(LikelihoodRatio, TouchedTokensRunFromTheFirstChangeToTheLast) {
  using variants::touched_tokens;
  const std::vector<std::int32_t> reference = {7, 8, 9, 10, 7, 8};
  auto span = touched_tokens(reference, {7, 8, 9, 10, 7, 8});
  EXPECT_EQ(span.first, span.reference_end);
  span = touched_tokens(reference, {7, 9, 10, 10, 7, 8});  // tokens 1 and 2 change
  EXPECT_EQ(span.first, 1u);
  EXPECT_EQ(span.reference_end, 3u);
  EXPECT_EQ(span.mutant_end, 3u);
  span = touched_tokens(reference, {7, 8, 9, 8});  // re-segmented: both run to their ends
  EXPECT_EQ(span.first, 3u);
  EXPECT_EQ(span.reference_end, 6u);
  EXPECT_EQ(span.mutant_end, 4u);
}

// A mutation of the last token touches nothing after it: the ratio is then the whole sequences'
// log-likelihood ratio, which score gives; a mutant that reads as its reference scores 0.
TEST(LikelihoodRatio, IsTheSequencesRatioWhenNothingFollowsTheChange) {
  auto model = tiny_lstm_model();
  const std::vector<std::int32_t> reference = {7, 8, 9, 10, 7, 8, 9};
  const std::vector<std::int32_t> last_changed = {7, 8, 9, 10, 7, 8, 10};
  const std::vector<std::int32_t> middle_changed = {7, 8, 10, 10, 7, 8, 9};
  const auto ratios = variants::likelihood_ratios(
      *model, {{.reference = reference, .mutants = {last_changed, reference, middle_changed}}},
      {.batch_size = 2});
  const auto totals =
      sequence_log_likelihoods(*model, {reference, last_changed, middle_changed}, {});
  ASSERT_EQ(ratios.size(), 1u);
  ASSERT_EQ(ratios[0].size(), 3u);
  EXPECT_NEAR(ratios[0][0], totals[1].item<double>() - totals[0].item<double>(), 1e-5);
  EXPECT_EQ(ratios[0][1], 0.0);
  // In the middle, only token 2 counts: its log-probability in each.
  const auto per_token = token_log_probabilities(*model, {reference, middle_changed}, {});
  EXPECT_NEAR(ratios[0][2], per_token[1][2].item<double>() - per_token[0][2].item<double>(), 1e-6);
}

// Reading each reference's prefix once and then only the spans gives the numbers of reading
// every window whole: first-token changes, unchanged mutants, several changes, a re-segmented
// mutant, sets of several lengths, in any batch size and chunk.
TEST(LikelihoodRatio, ReadingSharedPrefixesGivesTheWholeWindowsRatios) {
  auto model = tiny_lstm_model();
  const std::vector<variants::MutantSet> sets = {
      {.reference = {7, 8, 9, 10, 7, 8, 9},
       .mutants = {{8, 8, 9, 10, 7, 8, 9},
                   {7, 8, 9, 10, 7, 8, 9},
                   {7, 9, 9, 10, 7, 10, 9},
                   {7, 8, 9, 10, 7, 8, 10},
                   {7, 8, 9, 8}}},
      {.reference = {10, 9}, .mutants = {{10, 7}, {7, 9}}},
      {.reference = {9, 7, 8, 9, 10, 7, 8, 9, 10, 10, 8},
       .mutants = {{9, 7, 8, 9, 10, 8, 8, 9, 10, 10, 8}}}};
  const auto expected = variants::likelihood_ratios(*model, sets, {.batch_size = 64},
                                                    variants::RatioReading::whole_windows);
  for (const std::int64_t batch_size : {1, 2, 64})
    for (const std::int64_t chunk : {1, 3, 70}) {
      const auto ratios =
          variants::likelihood_ratios(*model, sets, {.batch_size = batch_size, .chunk = chunk});
      ASSERT_EQ(ratios.size(), expected.size());
      for (std::size_t s = 0; s < sets.size(); ++s) {
        ASSERT_EQ(ratios[s].size(), expected[s].size());
        for (std::size_t m = 0; m < ratios[s].size(); ++m)
          EXPECT_NEAR(ratios[s][m], expected[s][m], 1e-5)
              << "set " << s << ", mutant " << m << ", batch " << batch_size << ", chunk " << chunk;
      }
    }
  EXPECT_EQ(expected[0][1], 0.0);
}

}  // namespace
}  // namespace genolm::train
