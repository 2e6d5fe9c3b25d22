#pragma once
// The reference a language model must beat: Markov chains over the corpus's tokens, fitted on the
// train split and scored on the valid split, in nats per predicted token (the quantity the
// language model's valid loss reports).
//
// The chain. An order-n chain predicts a token from the n tokens before it (the backward chain:
// after it) inside one run of real tokens: a special token (the <bos> that opens every piece,
// <unk>, <sep>) ends the run, so no n-gram spans two records, pieces, chains of a pair, or an N.
// A token is predicted only when n real tokens precede it in its run. With c(.) the train counts,
//
//     P(w | h) = (c(h w) + 1) / (c(h) + S)
//
// (add-one smoothing over S, the tokens that can follow a token). For k-mers of stride s the
// tokens on either side of a token share k - s of its bases, so S = 4^s (ln S is the tokenizer's
// stride prior); for other kinds S is every non-special token. Unseen contexts get 1/S: finite.
//
// The orders. The shorter chain holds the context one token carries: 1 token. The longer one
// holds at least 8 letters of context (at least 2 tokens): for fixed-width tokens (k-mers,
// nucleotides), n tokens of stride s and width k span (n - 1) s + k letters, and the chain is
// reported by that order in letters. Overlapping 3-mers (stride 1): 1 token = order 3 (an order-3
// chain over bases, exactly), 6 tokens = order 8. Variable-width tokens (SentencePiece) and
// proteins report orders in tokens (1 and 2).
//
// The cost. Counting is one pass over each split, one hash-table probe per token and order; a
// table holds each distinct (n+1)-gram once, packed into 64 bits, and at most kMaxDistinctNgrams
// of them (16 bytes each at half load: 128 MB). An order whose n-grams cannot be packed, or that
// outgrows the cap, is skipped with the reason recorded.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/count_table.h"
#include "data/token_corpus.h"
#include "genolm/tokenizers/tokenizer.h"

namespace genolm::data {

inline constexpr std::uint64_t kMaxDistinctNgrams = std::uint64_t{1} << 22;

// What the chains are made of: the vocabulary, S, and the orders to fit.
struct MarkovSpec {
  std::int32_t vocab_size = 0;
  std::uint64_t successors = 0;  // S
  std::vector<int> context_tokens;
  // Letters (bases) per token and letters each token adds; 0 where tokens vary in width.
  int token_width = 0;
  int token_step = 0;
  std::uint64_t max_distinct = kMaxDistinctNgrams;

  // The context of n tokens in letters; nullopt for variable-width tokens.
  std::optional<int> context_letters(int n) const;
};

// The spec for a corpus of `tokenizer`'s tokens, as the header explains.
MarkovSpec markov_spec(const tokenizers::Tokenizer& tokenizer);

struct MarkovResult {
  int context_tokens = 0;
  std::optional<int> context_letters;
  std::string skipped;  // why no figure; empty when fitted
  std::uint64_t distinct_ngrams = 0;
  std::uint64_t predicted = 0;  // valid tokens scored
  double forward_loss = 0;      // mean nats per predicted token, reading forwards...
  double backward_loss = 0;     // ...and backwards
};

// Fits every order of the spec in one pass over the train tokens, then scores the valid tokens in
// one pass. Tokens arrive in consecutive blocks of any size: a block boundary is not a boundary.
class MarkovChains {
 public:
  explicit MarkovChains(MarkovSpec spec);
  ~MarkovChains();

  void fit(std::span<const std::int32_t> train);
  void score(std::span<const std::int32_t> valid);
  std::vector<MarkovResult> results() const;

 private:
  struct Order;
  void advance(std::int32_t token);
  void finish_fit();

  MarkovSpec spec_;
  int bits_ = 0;  // per token in a packed key
  std::vector<Order> orders_;
  std::uint64_t key_ = 0;  // the last tokens of the current run, packed
  int run_ = 0;            // real tokens in the current run (capped)
  bool scoring_ = false;
};

// Fits and scores the chains on a corpus's splits: corpus.json's "markov" object.
nlohmann::json markov_baselines(const TokenSplit& train, const TokenSplit& valid,
                                const tokenizers::Tokenizer& tokenizer);

// A corpus's chains as pretraining reports them: the figure for the direction the model reads.
struct MarkovReference {
  std::string name;  // "order-3 Markov", "order-2 (tokens) Markov"
  int context_tokens = 0;
  std::optional<int> order;  // in letters; nullopt where orders count tokens
  double loss = 0;
};

// The fitted chains of a "markov" object (skipped ones left out); throws genolm::Error naming
// `where` for a malformed one.
std::vector<MarkovReference> markov_references(const nlohmann::json& markov, bool backward,
                                               const std::string& where);

}  // namespace genolm::data
