#include "variants/likelihood_ratio.h"

#include <torch/torch.h>

#include <algorithm>

namespace genolm::variants {
namespace {

double sum_of(const torch::TensorAccessor<double, 2>& log_p, std::int64_t row, std::size_t first,
              std::size_t end) {
  double total = 0;
  for (std::size_t t = first; t < end; ++t)
    total += log_p[row][static_cast<std::int64_t>(t)];
  return total;
}

}  // namespace

TouchedTokens touched_tokens(const std::vector<std::int32_t>& reference,
                             const std::vector<std::int32_t>& mutant) {
  const std::size_t shared = std::min(reference.size(), mutant.size());
  std::size_t first = 0;
  while (first < shared && reference[first] == mutant[first])
    ++first;
  if (reference.size() != mutant.size()) return {first, reference.size(), mutant.size()};
  if (first == shared) return {first, first, first};
  std::size_t end = shared;
  while (end > first && reference[end - 1] == mutant[end - 1])
    --end;
  return {first, end, end};
}

std::vector<std::vector<double>> likelihood_ratios(models::LanguageModel& model,
                                                   const std::vector<MutantSet>& sets,
                                                   const train::LikelihoodOptions& options) {
  // Every reference and every mutant is read whole; the tokens outside the touched spans are
  // computed and dropped. (An LSTM could start each mutant from the reference's state at its
  // first change instead: the work is then the span, not the window.)
  std::vector<std::vector<std::int32_t>> references, mutants;
  for (const auto& set : sets) {
    references.push_back(set.reference);
    mutants.insert(mutants.end(), set.mutants.begin(), set.mutants.end());
  }
  const auto reference_log_p = train::token_log_probabilities(model, references, options);
  const auto mutant_log_p = train::token_log_probabilities(model, mutants, options);
  const auto reference_rows = reference_log_p.accessor<double, 2>();
  const auto mutant_rows = mutant_log_p.accessor<double, 2>();
  std::vector<std::vector<double>> ratios(sets.size());
  std::int64_t row = 0;
  for (std::size_t s = 0; s < sets.size(); ++s) {
    for (const auto& mutant : sets[s].mutants) {
      const auto span = touched_tokens(sets[s].reference, mutant);
      ratios[s].push_back(
          sum_of(mutant_rows, row, span.first, span.mutant_end) -
          sum_of(reference_rows, static_cast<std::int64_t>(s), span.first, span.reference_end));
      ++row;
    }
  }
  return ratios;
}

}  // namespace genolm::variants
