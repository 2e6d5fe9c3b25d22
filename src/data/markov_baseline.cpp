#include "data/markov_baseline.h"

#include <algorithm>
#include <cmath>

#include "genolm/error.h"
#include "genolm/tokenizers/specials.h"

namespace genolm::data {
namespace {

using tokenizers::SpecialIds;

// Letters of context the longer chain reaches at least (the order-8 chain over bases).
constexpr int kLongContextLetters = 8;
constexpr std::size_t kBlockTokens = std::size_t{1} << 20;

int bits_for(std::uint64_t values) {
  int bits = 1;
  while (bits < 63 && (std::uint64_t{1} << bits) < values)
    ++bits;
  return bits;
}

std::uint64_t low_mask(int bits) {
  return bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
}

}  // namespace

std::optional<int> MarkovSpec::context_letters(int n) const {
  if (token_width <= 0) return std::nullopt;
  return (n - 1) * token_step + token_width;
}

MarkovSpec markov_spec(const tokenizers::Tokenizer& tokenizer) {
  MarkovSpec spec;
  spec.vocab_size = tokenizer.vocab_size();
  const auto real = static_cast<std::uint64_t>(tokenizer.vocab_size() - SpecialIds::count);
  spec.successors = real;
  // A stride prior says each token adds a fixed number of bases, ln(4^step); a vocabulary of
  // every 4^width string says each token holds `width` bases (k-mers, nucleotides).
  const double prior = tokenizer.stride_prior();
  if (!std::isnan(prior)) {
    const auto step = static_cast<int>(std::llround(prior / std::log(4.0)));
    const auto width =
        static_cast<int>(std::llround(std::log(static_cast<double>(real)) / std::log(4.0)));
    if (step >= 1 && width >= step && width < 32 && (std::uint64_t{1} << (2 * width)) == real) {
      spec.token_width = width;
      spec.token_step = step;
      spec.successors = std::uint64_t{1} << (2 * step);
    }
  }
  int longer = 2;
  if (spec.token_width > 0) {
    while (*spec.context_letters(longer) < kLongContextLetters)
      ++longer;
    // A longer chain needs more context than one token.
    longer = std::max(longer, 2);
  }
  spec.context_tokens = {1, longer};
  return spec;
}

// One order: the train counts of its (n+1)-grams and, once fitted, of its forward contexts (the
// first n tokens) and backward contexts (the last n), then the valid split's score.
struct MarkovChains::Order {
  int n = 0;
  std::uint64_t window_mask = 0;   // the last n+1 tokens of a packed key
  std::uint64_t context_mask = 0;  // the last n
  std::string skipped;
  CountTable windows, forward, backward;
  std::uint64_t predicted = 0;
  double forward_nats = 0, backward_nats = 0;

  Order(int order, std::uint64_t max_distinct)
      : n(order), windows(max_distinct), forward(max_distinct), backward(max_distinct) {}
};

MarkovChains::MarkovChains(MarkovSpec spec) : spec_(std::move(spec)) {
  if (spec_.vocab_size <= SpecialIds::count || spec_.successors == 0) {
    throw Error("Markov baseline: a vocabulary of " + std::to_string(spec_.vocab_size) +
                " tokens holds no real tokens");
  }
  bits_ = bits_for(static_cast<std::uint64_t>(spec_.vocab_size - SpecialIds::count));
  orders_.reserve(spec_.context_tokens.size());
  for (const int n : spec_.context_tokens) {
    Order& order = orders_.emplace_back(n, spec_.max_distinct);
    const int window_bits = (n + 1) * bits_;
    // Keys stay below 2^63 so that none can equal the table's empty marker.
    if (window_bits > 63) {
      order.skipped = "a window of " + std::to_string(n + 1) + " tokens of a " +
                      std::to_string(spec_.vocab_size - SpecialIds::count) +
                      "-token vocabulary needs " + std::to_string(window_bits) +
                      " bits, more than a 63-bit key";
      continue;
    }
    order.window_mask = low_mask(window_bits);
    order.context_mask = low_mask(n * bits_);
  }
}

MarkovChains::~MarkovChains() = default;

void MarkovChains::advance(std::int32_t token) {
  if (token < SpecialIds::count || token >= spec_.vocab_size) {
    run_ = 0;
    key_ = 0;
    return;
  }
  key_ = (key_ << bits_) | static_cast<std::uint64_t>(token - SpecialIds::count);
  run_ = std::min(run_ + 1, 64);
}

void MarkovChains::fit(std::span<const std::int32_t> train) {
  if (scoring_) throw Error("internal: Markov chains fitted after scoring began");
  for (const std::int32_t token : train) {
    advance(token);
    for (auto& order : orders_) {
      if (run_ <= order.n || !order.skipped.empty()) continue;
      if (!order.windows.add(key_ & order.window_mask)) {
        order.skipped = "the train split holds more than " + std::to_string(spec_.max_distinct) +
                        " distinct " + std::to_string(order.n + 1) +
                        "-token windows (the table's cap, which bounds memory)";
        order.windows = CountTable(0);
      }
    }
  }
}

void MarkovChains::finish_fit() {
  for (auto& order : orders_) {
    if (!order.skipped.empty()) continue;
    // Context tables are no larger than the window table, so they stay under the cap.
    order.windows.for_each([&](std::uint64_t key, std::uint64_t count) {
      order.forward.add(key >> bits_, count);
      order.backward.add(key & order.context_mask, count);
    });
  }
  key_ = 0;
  run_ = 0;
  scoring_ = true;
}

void MarkovChains::score(std::span<const std::int32_t> valid) {
  if (!scoring_) finish_fit();
  const double s = static_cast<double>(spec_.successors);
  for (const std::int32_t token : valid) {
    advance(token);
    for (auto& order : orders_) {
      if (run_ <= order.n || !order.skipped.empty()) continue;
      const std::uint64_t window = key_ & order.window_mask;
      const double joint = static_cast<double>(order.windows.get(window)) + 1.0;
      const double forward = static_cast<double>(order.forward.get(window >> bits_)) + s;
      const double backward =
          static_cast<double>(order.backward.get(window & order.context_mask)) + s;
      order.forward_nats -= std::log(joint / forward);
      order.backward_nats -= std::log(joint / backward);
      ++order.predicted;
    }
  }
}

std::vector<MarkovResult> MarkovChains::results() const {
  std::vector<MarkovResult> results;
  for (const auto& order : orders_) {
    MarkovResult result;
    result.context_tokens = order.n;
    result.context_letters = spec_.context_letters(order.n);
    result.skipped = order.skipped;
    result.distinct_ngrams = order.windows.size();
    result.predicted = order.predicted;
    if (result.skipped.empty() && order.predicted == 0)
      result.skipped = "the valid split holds no run of " + std::to_string(order.n + 1) +
                       " real tokens to score";
    if (order.predicted > 0) {
      result.forward_loss = order.forward_nats / static_cast<double>(order.predicted);
      result.backward_loss = order.backward_nats / static_cast<double>(order.predicted);
    }
    results.push_back(result);
  }
  return results;
}

nlohmann::json markov_baselines(const TokenSplit& train, const TokenSplit& valid,
                                const tokenizers::Tokenizer& tokenizer) {
  const MarkovSpec spec = markov_spec(tokenizer);
  MarkovChains chains(spec);
  std::vector<std::int32_t> block;
  const auto each_block = [&block](const TokenSplit& split, auto&& use) {
    for (std::uint64_t begin = 0; begin < split.size(); begin += kBlockTokens) {
      const auto count =
          static_cast<std::size_t>(std::min<std::uint64_t>(kBlockTokens, split.size() - begin));
      block.resize(count);
      split.read(begin, count, block.data());
      use(std::span<const std::int32_t>(block));
    }
  };
  each_block(train, [&](std::span<const std::int32_t> tokens) { chains.fit(tokens); });
  each_block(valid, [&](std::span<const std::int32_t> tokens) { chains.score(tokens); });
  if (valid.size() == 0) chains.score({});

  const bool letters = spec.token_width > 0;
  nlohmann::json orders = nlohmann::json::array();
  for (const auto& result : chains.results()) {
    nlohmann::json entry = {{"context_tokens", result.context_tokens}};
    if (result.context_letters) entry["order"] = *result.context_letters;
    if (!result.skipped.empty()) {
      entry["skipped"] = result.skipped;
    } else {
      entry["forward"] = result.forward_loss;
      entry["backward"] = result.backward_loss;
      entry["predicted_tokens"] = result.predicted;
      entry["distinct_ngrams"] = result.distinct_ngrams;
    }
    orders.push_back(entry);
  }
  return {{"smoothing", "add-one over the tokens that can follow a token"},
          {"successors", spec.successors},
          {"order_unit", letters ? "bases" : "tokens"},
          {"orders", orders}};
}

std::vector<MarkovReference> markov_references(const nlohmann::json& markov, bool backward,
                                               const std::string& where) {
  std::vector<MarkovReference> references;
  try {
    const bool letters = markov.at("order_unit").get<std::string>() != "tokens";
    for (const auto& entry : markov.at("orders")) {
      if (entry.contains("skipped")) continue;
      MarkovReference reference;
      reference.context_tokens = entry.at("context_tokens").get<int>();
      reference.loss = entry.at(backward ? "backward" : "forward").get<double>();
      if (letters) {
        reference.order = entry.at("order").get<int>();
        reference.name = "order-" + std::to_string(*reference.order) + " Markov";
      } else {
        reference.name = "order-" + std::to_string(reference.context_tokens) + " (tokens) Markov";
      }
      references.push_back(reference);
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(where + ": malformed \"markov\" baselines (" + e.what() + ")");
  }
  return references;
}

}  // namespace genolm::data
