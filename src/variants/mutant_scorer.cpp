#include "variants/mutant_scorer.h"

#include <algorithm>
#include <cmath>

#include "genolm/error.h"
#include "genolm/tokenizers/alphabet.h"
#include "models/pooling_head.h"
#include "models/sequence_classifier.h"
#include "train/device.h"
#include "train/inference.h"
#include "train/precision.h"
#include "variants/likelihood_ratio.h"

namespace genolm::variants {
namespace {

// `sequence` as the model reads it: the given strand or the other, reversed for a backward model.
// Throws genolm::Error naming `record` when the tokenizer finds no token in it.
std::vector<std::int32_t> model_tokens(const train::ModelFolder& folder,
                                       const std::string& sequence, const std::string& record,
                                       bool other_strand) {
  auto ids =
      folder.tokenizer->encode(other_strand ? tokenizers::reverse_complement(sequence) : sequence);
  if (ids.empty()) {
    throw Error("record '" + record + "' (" + std::to_string(sequence.size()) +
                " letters) is too short to give the tokenizer a token");
  }
  if (folder.backward()) std::reverse(ids.begin(), ids.end());
  return ids;
}

class LanguageModelScorer final : public MutantScorer {
 public:
  LanguageModelScorer(train::ModelFolder& folder, const ScoringOptions& options)
      : folder_(folder),
        options_(options),
        likelihood_{.batch_size = options.batch_size,
                    .chunk = folder.chunk,
                    .autocast = folder.autocast()} {}

  const std::vector<std::string>& columns() const override { return columns_; }

  std::vector<std::vector<std::vector<double>>> score(
      const std::vector<ReferenceMutants>& sets) override {
    auto ratios = strand_ratios(sets, false);
    if (options_.rc_average) {
      const auto other = strand_ratios(sets, true);
      for (std::size_t s = 0; s < ratios.size(); ++s)
        for (std::size_t m = 0; m < ratios[s].size(); ++m)
          ratios[s][m] = (ratios[s][m] + other[s][m]) / 2;
    }
    std::vector<std::vector<std::vector<double>>> scores(sets.size());
    for (std::size_t s = 0; s < sets.size(); ++s)
      for (const double ratio : ratios[s])
        scores[s].push_back({ratio});
    return scores;
  }

 private:
  std::vector<std::vector<double>> strand_ratios(const std::vector<ReferenceMutants>& sets,
                                                 bool other_strand) const {
    std::vector<MutantSet> token_sets;
    for (const auto& set : sets) {
      MutantSet tokenized{
          .reference = model_tokens(folder_, set.reference, set.record, other_strand),
          .mutants = {}};
      for (const auto& mutant : set.mutants)
        tokenized.mutants.push_back(model_tokens(folder_, mutant, set.record, other_strand));
      token_sets.push_back(std::move(tokenized));
    }
    return likelihood_ratios(*folder_.language_model, token_sets, likelihood_);
  }

  train::ModelFolder& folder_;
  ScoringOptions options_;
  train::LikelihoodOptions likelihood_;
  std::vector<std::string> columns_ = {"llr"};
};

class PredictionScorer final : public MutantScorer {
 public:
  PredictionScorer(train::ModelFolder& folder, const ScoringOptions& options)
      : folder_(folder), options_(options) {
    const auto& scheme = folder.scheme();
    probabilities_ = scheme.kind != data::TaskKind::regression;
    const auto& names =
        scheme.kind == data::TaskKind::classification ? scheme.classes : scheme.targets;
    for (const auto& name : names)
      columns_.push_back("delta_" + name);
    if (probabilities_)
      for (const auto& name : names)
        columns_.push_back("delta_logodds_" + name);
  }

  const std::vector<std::string>& columns() const override { return columns_; }

  std::vector<std::vector<std::vector<double>>> score(
      const std::vector<ReferenceMutants>& sets) override {
    std::vector<io::LabelledExample> records;
    for (const auto& set : sets) {
      records.push_back({.id = set.record, .sequences = {set.reference}, .labels = {}, .line = 0});
      for (const auto& mutant : set.mutants)
        records.push_back({.id = set.record, .sequences = {mutant}, .labels = {}, .line = 0});
    }
    const auto examples = data::encode_examples(records, *folder_.tokenizer, folder_.scheme(),
                                                "the mutants of " + sets.front().record,
                                                {.with_labels = false,
                                                 .reverse_complement = options_.rc_average,
                                                 .backward = folder_.backward()});
    const auto predictions = train::predict(*folder_.classifier, examples, *folder_.task,
                                            {.batch_size = options_.batch_size,
                                             .autocast = folder_.autocast(),
                                             .rc_average = options_.rc_average});
    const std::size_t width = predictions.width;
    const auto value = [&](std::size_t row, std::size_t output) {
      return predictions.values[row * width + output];
    };
    std::vector<std::vector<std::vector<double>>> scores(sets.size());
    std::size_t row = 0;
    for (std::size_t s = 0; s < sets.size(); ++s) {
      const std::size_t reference = row++;
      for (std::size_t m = 0; m < sets[s].mutants.size(); ++m, ++row) {
        std::vector<double> deltas;
        for (std::size_t o = 0; o < width; ++o)
          deltas.push_back(value(row, o) - value(reference, o));
        if (probabilities_)
          for (std::size_t o = 0; o < width; ++o)
            deltas.push_back(log_odds(value(row, o)) - log_odds(value(reference, o)));
        scores[s].push_back(std::move(deltas));
      }
    }
    return scores;
  }

 private:
  // Probabilities are clipped away from 0 and 1 (float32's resolution), so a saturated output
  // gives a large finite log-odds change instead of an infinite one.
  static double log_odds(double p) {
    constexpr double kEdge = 1e-7;
    p = std::clamp(p, kEdge, 1 - kEdge);
    return std::log(p / (1 - p));
  }

  train::ModelFolder& folder_;
  ScoringOptions options_;
  bool probabilities_ = false;
  std::vector<std::string> columns_;
};

// Another scorer's columns, then the distance between the mutant's and the reference's embeddings.
class EmbeddingDistance final : public MutantScorer {
 public:
  EmbeddingDistance(std::unique_ptr<MutantScorer> inner, train::ModelFolder& folder,
                    const ScoringOptions& options)
      : inner_(std::move(inner)), folder_(folder), options_(options), columns_(inner_->columns()) {
    columns_.push_back("embedding_distance");
  }

  const std::vector<std::string>& columns() const override { return columns_; }

  std::vector<std::vector<std::vector<double>>> score(
      const std::vector<ReferenceMutants>& sets) override {
    auto scores = inner_->score(sets);
    auto vectors = embed(sets, false);
    if (options_.rc_average) vectors = (vectors + embed(sets, true)) / 2;
    std::int64_t row = 0;
    for (std::size_t s = 0; s < sets.size(); ++s) {
      const auto reference = vectors[row++];
      for (auto& mutant_scores : scores[s])
        mutant_scores.push_back((vectors[row++] - reference).norm().item<double>());
    }
    return scores;
  }

 private:
  // Mean-pooled states [references and mutants, in order x dim] of one strand.
  torch::Tensor embed(const std::vector<ReferenceMutants>& sets, bool other_strand) {
    std::vector<std::vector<std::int32_t>> tokens;
    for (const auto& set : sets) {
      tokens.push_back(model_tokens(folder_, set.reference, set.record, other_strand));
      for (const auto& mutant : set.mutants)
        tokens.push_back(model_tokens(folder_, mutant, set.record, other_strand));
    }
    torch::NoGradGuard no_grad;
    auto& encoder = *folder_.encoder;
    const bool was_training = encoder.is_training();
    encoder.eval();
    auto pooled = train::map_in_length_batches(
        tokens, options_.batch_size, train::device_of(encoder), [&](const train::BatchTensors& b) {
          train::Bf16Autocast autocast(folder_.autocast(), b.ids.device().type());
          return models::pool_in_chunks(encoder, b.ids, b.lengths, folder_.chunk,
                                        models::Pooling::mean);
        });
    if (was_training) encoder.train();
    return pooled.to(torch::kDouble);
  }

  std::unique_ptr<MutantScorer> inner_;
  train::ModelFolder& folder_;
  ScoringOptions options_;
  std::vector<std::string> columns_;
};

std::unique_ptr<MutantScorer> scorer_of(train::ModelFolder& folder, const ScoringOptions& options) {
  if (folder.fine_tuned()) return std::make_unique<PredictionScorer>(folder, options);
  if (!folder.language_model) {
    throw Error(folder.layout.dir().string() +
                " holds an encoder only, written before runs kept their whole language model: "
                "it gives no likelihood (retrain it, or score with a fine-tuned run)");
  }
  return std::make_unique<LanguageModelScorer>(folder, options);
}

}  // namespace

std::unique_ptr<MutantScorer> make_mutant_scorer(train::ModelFolder& folder,
                                                 const ScoringOptions& options) {
  if (options.rc_average && !folder.tokenizer->reverse_complement_applies()) {
    throw Error("--rc-average needs a DNA tokenizer; " + folder.layout.dir().string() +
                " reads proteins");
  }
  auto scorer = scorer_of(folder, options);
  if (!options.embedding_distance) return scorer;
  return std::make_unique<EmbeddingDistance>(std::move(scorer), folder, options);
}

}  // namespace genolm::variants
