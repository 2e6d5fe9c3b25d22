#pragma once
// Zero-shot variant effects from a language model: how much likelier (positive) or less likely
// (negative) the model finds a mutant than its reference, as a log-likelihood ratio over the tokens
// the mutation touches. Tokens before the first change read the same context in both and would
// cancel exactly; tokens after the last change differ only through their context, and are left
// out, so a ratio measures the changed tokens (with k-mers, every k-mer that covers a changed
// base) and not the length of the window around them.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "models/language_model.h"
#include "train/sequence_likelihood.h"

namespace genolm::variants {

// A reference and mutants of it, as token ids in the order the model reads them (reversed for a
// backward model).
struct MutantSet {
  std::vector<std::int32_t> reference;
  std::vector<std::vector<std::int32_t>> mutants;
};

// The tokens a mutant touches, [first, reference_end) of the reference and [first, mutant_end)
// of the mutant: from the first token that differs to the last one. When the two have different
// token counts (a tokenizer that segments the mutant anew), both spans run to their ends. Empty
// spans (first == both ends) for a mutant that reads as its reference.
struct TouchedTokens {
  std::size_t first = 0;
  std::size_t reference_end = 0;
  std::size_t mutant_end = 0;
};
TouchedTokens touched_tokens(const std::vector<std::int32_t>& reference,
                             const std::vector<std::int32_t>& mutant);

// How the ratios are computed; both give the same numbers.
enum class RatioReading {
  // An encoder that carries state (the LSTM) reads each reference's prefix once, up to each
  // mutant's first change, and then only the touched tokens of the reference and of each mutant
  // from that state: the work is the prefix plus the spans, not two whole windows per mutant.
  // Encoders without state read whole windows.
  shared_prefix,
  whole_windows,  // every reference and mutant read whole (the reference for tests)
};

// The log-likelihood ratio (natural log, mutant over reference, over the touched tokens) of every
// mutant of every set: result[s][m] for sets[s].mutants[m]. Sequences run in batches of
// `options.batch_size`.
std::vector<std::vector<double>> likelihood_ratios(
    models::LanguageModel& model, const std::vector<MutantSet>& sets,
    const train::LikelihoodOptions& options, RatioReading reading = RatioReading::shared_prefix);

}  // namespace genolm::variants
