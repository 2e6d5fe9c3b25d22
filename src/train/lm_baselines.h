#pragma once
// What a language model's valid loss is measured against. The references it must beat are the
// corpus's Markov chains (data/markov_baseline.h), in the direction the model reads; the uniform
// guess (ln of the vocabulary) and the stride prior (a uniform guess at the bases one token adds)
// stay as floors: a model above them has learnt nothing at all.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/markov_baseline.h"
#include "data/token_corpus.h"
#include "genolm/tokenizers/tokenizer.h"

namespace genolm::train {

struct LmBaselines {
  bool backward = false;
  std::vector<data::MarkovReference> markov;
  double uniform = 0;       // ln V
  double stride_prior = 0;  // NaN where the tokenizer has none
  std::uint64_t valid_tokens = 0;
};

// The corpus's chains from corpus.json; a corpus built before they were recorded has them fitted
// now (one pass over each split).
LmBaselines lm_baselines(const data::TokenCorpus& corpus, const tokenizers::Tokenizer& tokenizer,
                         bool backward);

// run.json's "baselines".
nlohmann::json to_json(const LmBaselines& baselines);

// The opening line: every reference and floor.
std::string describe(const LmBaselines& baselines);

// An evaluation's verdict, appended to its log line: "order-3 Markov 1.3186, order-8 Markov
// 1.2525: beats order-3, not order-8". Without a chain, the stride prior (or the uniform guess).
std::string verdict(const LmBaselines& baselines, double valid_loss);

}  // namespace genolm::train
