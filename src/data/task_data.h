#pragma once
// Labelled examples made ready for fine-tuning: labels checked and encoded (class indices, numbers
// for regression, 0/1 for multi-label), sequences tokenized (and, for DNA, their reverse
// complements too), stratified train/valid/test splits, and batches of similar lengths with right
// padding.

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "genolm/tokenizers/tokenizer.h"
#include "io/labelled.h"

namespace genolm::data {

enum class TaskKind { classification, regression, multilabel };

// How labels read: the classes in order, or the names of the label columns (regression targets,
// or multi-label's 0/1 labels).
struct LabelScheme {
  TaskKind kind = TaskKind::classification;
  std::vector<std::string> classes;  // classification
  std::vector<std::string> targets;  // regression and multilabel: the label columns
  std::size_t outputs() const {
    return kind == TaskKind::classification ? classes.size() : targets.size();
  }
};

// The distinct labels of `examples` (first label column), sorted; numbers sort by value ("2"
// before "10"), words by text.
std::vector<std::string> distinct_classes(const std::vector<io::LabelledExample>& examples);
// The distinct `values`, sorted the same way.
std::vector<std::string> distinct_values(std::vector<std::string> values);

struct TaskExamples {
  std::vector<std::string> ids;
  std::vector<std::vector<std::int32_t>> tokens;
  std::vector<std::vector<std::int32_t>> rc_tokens;  // the other strand; empty unless asked for
  std::vector<std::int64_t> classes;                 // classification: one index per example
  std::vector<float> targets;  // regression: [examples x targets]; multilabel: 0/1 likewise
  std::size_t size() const { return tokens.size(); }
};

struct EncodeOptions {
  bool with_labels = true;
  bool reverse_complement = false;  // also tokenize the other strand (DNA tokenizers only)
  // Reverse every token sequence (both strands): the order a backward language model read its
  // corpus in, so a model fine-tuned from one reads the way it was pretrained.
  bool backward = false;
};

// Tokenizes and encodes labels. Paired chains are joined by <sep>. Errors name `file`, the line
// and the problem: an unknown class, a target that is not a number, a multi-label value that is
// not 0, 1, true or false (naming its column), a sequence with no tokens.
TaskExamples encode_examples(const std::vector<io::LabelledExample>& examples,
                             const tokenizers::Tokenizer& tokenizer, const LabelScheme& scheme,
                             const std::filesystem::path& file, const EncodeOptions& options);

// Appends example `index` of `from` to `to` (ids, tokens, strands, labels).
void append_example(const TaskExamples& from, std::size_t index, TaskExamples& to);

// Splits indices 0..strata.size()-1 into train, valid and test, each class (stratum) in the given
// shares; the shuffle depends on `seed` alone. Every nonempty share of a stratum with at least
// three members gets one member at least.
struct SplitIndices {
  std::vector<std::size_t> train, valid, test;
};
SplitIndices stratified_split(const std::vector<std::int64_t>& strata, double valid_fraction,
                              double test_fraction, std::uint64_t seed);

// The number of tokens of each sequence.
std::vector<std::size_t> token_lengths(const std::vector<std::vector<std::int32_t>>& tokens);

// Batches of indices. Training: fastai's sortish order (shuffle, sort chunks of 50 batches by
// length, longest batch first, the rest shuffled), so padding stays small and batches still vary.
// Evaluation: longest first, in order.
std::vector<std::vector<std::size_t>> sortish_batches(const std::vector<std::size_t>& lengths,
                                                      std::size_t batch_size, std::mt19937_64& rng);
std::vector<std::vector<std::size_t>> sorted_batches(const std::vector<std::size_t>& lengths,
                                                     std::size_t batch_size);

// Token ids of a batch, right-padded with <pad> to the longest: [rows x steps] row-major, plus
// every row's real length.
struct PaddedBatch {
  std::vector<std::int64_t> ids;
  std::vector<std::int64_t> lengths;
  std::int64_t rows = 0, steps = 0;
};
PaddedBatch pad_batch(const std::vector<const std::vector<std::int32_t>*>& sequences);

}  // namespace genolm::data
