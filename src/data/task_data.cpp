#include "data/task_data.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>

#include "genolm/error.h"
#include "genolm/tokenizers/alphabet.h"
#include "genolm/tokenizers/specials.h"

namespace genolm::data {
namespace {

std::string upper(std::string text) {
  for (char& c : text)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return text;
}

bool parse_number(const std::string& text, double& value) {
  const char* end = text.data() + text.size();
  const auto [ptr, error] = std::from_chars(text.data(), end, value);
  return error == std::errc() && ptr == end && std::isfinite(value);
}

// Multi-label values: 0/1, or true/false in any case (as pandas and R write booleans).
bool parse_binary(const std::string& text, float& value) {
  const std::string word = upper(text);
  if (word == "1" || word == "TRUE") {
    value = 1.f;
    return true;
  }
  if (word == "0" || word == "FALSE") {
    value = 0.f;
    return true;
  }
  return false;
}

std::string where(const std::filesystem::path& file, const io::LabelledExample& example) {
  return file.string() + " line " + std::to_string(example.line) + " (record '" + example.id + "')";
}

std::vector<std::int32_t> tokenize(const tokenizers::Tokenizer& tokenizer,
                                   const std::vector<std::string>& sequences) {
  if (sequences.size() == 2) return tokenizer.encode_pair(sequences[0], sequences[1]);
  return tokenizer.encode(sequences.at(0));
}

}  // namespace

std::vector<std::string> distinct_classes(const std::vector<io::LabelledExample>& examples) {
  std::vector<std::string> classes;
  for (const auto& example : examples)
    if (!example.labels.empty()) classes.push_back(example.labels[0]);
  return distinct_values(std::move(classes));
}

std::vector<std::string> distinct_values(std::vector<std::string> classes) {
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  const bool numeric = std::all_of(classes.begin(), classes.end(), [](const std::string& c) {
    double value;
    return parse_number(c, value);
  });
  if (numeric) {
    std::stable_sort(classes.begin(), classes.end(),
                     [](const std::string& a, const std::string& b) {
                       double x = 0, y = 0;
                       parse_number(a, x);
                       parse_number(b, y);
                       return x < y;
                     });
  }
  return classes;
}

TaskExamples encode_examples(const std::vector<io::LabelledExample>& examples,
                             const tokenizers::Tokenizer& tokenizer, const LabelScheme& scheme,
                             const std::filesystem::path& file, const EncodeOptions& options) {
  TaskExamples out;
  if (options.reverse_complement && !tokenizer.reverse_complement_applies()) {
    throw Error("reverse-complement augmentation or averaging needs a DNA tokenizer, not '" +
                tokenizer.kind() + "' (turn task.rc_augment and task.rc_average off)");
  }
  for (const auto& example : examples) {
    std::vector<std::string> sequences;
    for (const auto& sequence : example.sequences)
      sequences.push_back(upper(sequence));
    auto tokens = tokenize(tokenizer, sequences);
    if (tokens.empty()) {
      throw Error(where(file, example) + ": the sequence is too short to give a single token");
    }
    if (options.backward) std::reverse(tokens.begin(), tokens.end());
    out.tokens.push_back(std::move(tokens));
    if (options.reverse_complement) {
      for (auto& sequence : sequences)
        sequence = tokenizers::reverse_complement(sequence);
      auto rc = tokenize(tokenizer, sequences);
      if (options.backward) std::reverse(rc.begin(), rc.end());
      out.rc_tokens.push_back(std::move(rc));
    }
    out.ids.push_back(example.id);
    if (!options.with_labels) continue;
    if (scheme.kind == TaskKind::classification) {
      const std::string& label = example.labels.at(0);
      const auto found = std::find(scheme.classes.begin(), scheme.classes.end(), label);
      if (found == scheme.classes.end()) {
        std::string known;
        for (const auto& name : scheme.classes)
          known += (known.empty() ? "" : ", ") + name;
        throw Error(where(file, example) + ": unknown class '" + label +
                    "' (the model knows: " + known + ")");
      }
      out.classes.push_back(found - scheme.classes.begin());
    } else if (scheme.kind == TaskKind::multilabel) {
      if (example.labels.size() != scheme.targets.size()) {
        throw Error(where(file, example) + ": expected " + std::to_string(scheme.targets.size()) +
                    " label columns, found " + std::to_string(example.labels.size()));
      }
      for (std::size_t t = 0; t < scheme.targets.size(); ++t) {
        float value = 0;
        if (!parse_binary(example.labels[t], value)) {
          throw Error(where(file, example) + ": label column '" + scheme.targets[t] + "' is '" +
                      example.labels[t] + "' (expected 0, 1, true or false)");
        }
        out.targets.push_back(value);
      }
    } else {
      if (example.labels.size() != scheme.targets.size()) {
        throw Error(where(file, example) + ": expected " + std::to_string(scheme.targets.size()) +
                    " regression targets, found " + std::to_string(example.labels.size()));
      }
      for (std::size_t t = 0; t < scheme.targets.size(); ++t) {
        double value = 0;
        if (!parse_number(example.labels[t], value)) {
          throw Error(where(file, example) + ": regression target '" + scheme.targets[t] +
                      "' is '" + example.labels[t] + "', not a number");
        }
        out.targets.push_back(static_cast<float>(value));
      }
    }
  }
  return out;
}

void append_example(const TaskExamples& from, std::size_t index, TaskExamples& to) {
  to.ids.push_back(from.ids[index]);
  to.tokens.push_back(from.tokens[index]);
  if (!from.rc_tokens.empty()) to.rc_tokens.push_back(from.rc_tokens[index]);
  if (!from.classes.empty()) to.classes.push_back(from.classes[index]);
  if (!from.targets.empty()) {
    const std::size_t width = from.targets.size() / from.size();
    to.targets.insert(to.targets.end(), from.targets.begin() + index * width,
                      from.targets.begin() + (index + 1) * width);
  }
}

SplitIndices stratified_split(const std::vector<std::int64_t>& strata, double valid_fraction,
                              double test_fraction, std::uint64_t seed) {
  std::vector<std::int64_t> names = strata;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::mt19937_64 rng(seed);
  SplitIndices split;
  for (const std::int64_t name : names) {
    std::vector<std::size_t> members;
    for (std::size_t i = 0; i < strata.size(); ++i)
      if (strata[i] == name) members.push_back(i);
    std::shuffle(members.begin(), members.end(), rng);
    const auto share = [&](double fraction) -> std::size_t {
      if (fraction <= 0) return 0;
      const auto n = static_cast<std::size_t>(std::llround(fraction * members.size()));
      return members.size() >= 3 ? std::max<std::size_t>(n, 1) : n;
    };
    const std::size_t test = share(test_fraction);
    const std::size_t valid = std::min(share(valid_fraction), members.size() - test);
    split.test.insert(split.test.end(), members.begin(), members.begin() + test);
    split.valid.insert(split.valid.end(), members.begin() + test, members.begin() + test + valid);
    split.train.insert(split.train.end(), members.begin() + test + valid, members.end());
  }
  // File order within each split, so that outputs read like the input.
  for (auto* part : {&split.train, &split.valid, &split.test})
    std::sort(part->begin(), part->end());
  return split;
}

std::vector<std::size_t> token_lengths(const std::vector<std::vector<std::int32_t>>& tokens) {
  std::vector<std::size_t> lengths;
  lengths.reserve(tokens.size());
  for (const auto& sequence : tokens)
    lengths.push_back(sequence.size());
  return lengths;
}

std::vector<std::vector<std::size_t>> sortish_batches(const std::vector<std::size_t>& lengths,
                                                      std::size_t batch_size,
                                                      std::mt19937_64& rng) {
  std::vector<std::size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  const std::size_t chunk = 50 * batch_size;
  for (std::size_t start = 0; start < order.size(); start += chunk) {
    const auto end = order.begin() + std::min(order.size(), start + chunk);
    std::stable_sort(order.begin() + start, end,
                     [&](std::size_t a, std::size_t b) { return lengths[a] > lengths[b]; });
  }
  std::vector<std::vector<std::size_t>> batches;
  for (std::size_t start = 0; start < order.size(); start += batch_size) {
    batches.emplace_back(order.begin() + start,
                         order.begin() + std::min(order.size(), start + batch_size));
  }
  if (batches.size() > 1) {
    // The longest batch goes first so that the largest memory need shows at once; the others
    // are shuffled so consecutive batches do not creep through the lengths.
    const auto longest = std::max_element(
        batches.begin(), batches.end(),
        [&](const auto& a, const auto& b) { return lengths[a[0]] < lengths[b[0]]; });
    std::iter_swap(batches.begin(), longest);
    std::shuffle(batches.begin() + 1, batches.end(), rng);
  }
  return batches;
}

std::vector<std::vector<std::size_t>> sorted_batches(const std::vector<std::size_t>& lengths,
                                                     std::size_t batch_size) {
  std::vector<std::size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return lengths[a] > lengths[b]; });
  std::vector<std::vector<std::size_t>> batches;
  for (std::size_t start = 0; start < order.size(); start += batch_size) {
    batches.emplace_back(order.begin() + start,
                         order.begin() + std::min(order.size(), start + batch_size));
  }
  return batches;
}

PaddedBatch pad_batch(const std::vector<const std::vector<std::int32_t>*>& sequences) {
  PaddedBatch batch;
  batch.rows = static_cast<std::int64_t>(sequences.size());
  for (const auto* sequence : sequences)
    batch.steps = std::max<std::int64_t>(batch.steps, static_cast<std::int64_t>(sequence->size()));
  batch.ids.assign(static_cast<std::size_t>(batch.rows * batch.steps), tokenizers::SpecialIds::pad);
  for (std::size_t r = 0; r < sequences.size(); ++r) {
    std::copy(sequences[r]->begin(), sequences[r]->end(),
              batch.ids.begin() + static_cast<std::ptrdiff_t>(r * batch.steps));
    batch.lengths.push_back(static_cast<std::int64_t>(sequences[r]->size()));
  }
  return batch;
}

}  // namespace genolm::data
