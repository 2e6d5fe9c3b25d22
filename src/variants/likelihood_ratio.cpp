#include "variants/likelihood_ratio.h"

#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "data/task_data.h"
#include "genolm/error.h"
#include "genolm/tokenizers/specials.h"
#include "train/device.h"
#include "train/inference.h"
#include "train/precision.h"

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

namespace {

std::vector<std::vector<double>> ratios_of_whole_windows(models::LanguageModel& model,
                                                         const std::vector<MutantSet>& sets,
                                                         const train::LikelihoodOptions& options) {
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

// One span to read from a reference's state: tokens [first, end) of `tokens`, set `set`.
struct SpanRow {
  std::size_t set = 0;
  const std::vector<std::int32_t>* tokens = nullptr;
  std::size_t first = 0, end = 0;
  double log_likelihood = 0;
};

// Sums log p over each row's span, every row starting from the encoder state its reference had
// after reading inputs [0, first) (`states` by first, columns by set in the group).
void read_spans(models::LanguageModel& model, std::vector<SpanRow>& rows,
                const std::map<std::size_t, std::vector<torch::Tensor>>& states,
                const train::LikelihoodOptions& options, const torch::Device& device) {
  auto& encoder = *model.encoder();
  for (std::size_t begin = 0; begin < rows.size();
       begin += static_cast<std::size_t>(options.batch_size)) {
    const std::size_t end =
        std::min(rows.size(), begin + static_cast<std::size_t>(options.batch_size));
    const auto count = static_cast<std::int64_t>(end - begin);
    std::int64_t longest = 0;
    for (std::size_t r = begin; r < end; ++r)
      longest = std::max(longest, static_cast<std::int64_t>(rows[r].end - rows[r].first));
    if (longest == 0) continue;
    std::vector<std::int64_t> inputs(static_cast<std::size_t>(count * longest),
                                     tokenizers::SpecialIds::pad);
    std::vector<std::int64_t> targets(inputs.size(), tokenizers::SpecialIds::pad);
    std::vector<std::int64_t> lengths;
    std::vector<std::vector<torch::Tensor>> pieces(states.begin()->second.size());
    for (std::size_t r = begin; r < end; ++r) {
      const auto& row = rows[r];
      const auto offset = static_cast<std::size_t>(r - begin) * static_cast<std::size_t>(longest);
      for (std::size_t t = row.first; t < row.end; ++t) {
        // Position t reads token t - 1 (<bos> at 0) and predicts token t.
        inputs[offset + t - row.first] =
            t == 0 ? tokenizers::SpecialIds::bos : (*row.tokens)[t - 1];
        targets[offset + t - row.first] = (*row.tokens)[t];
      }
      lengths.push_back(static_cast<std::int64_t>(row.end - row.first));
      const auto& state = states.at(row.first);
      for (std::size_t i = 0; i < state.size(); ++i)
        pieces[i].push_back(state[i].slice(1, static_cast<std::int64_t>(row.set),
                                           static_cast<std::int64_t>(row.set) + 1));
    }
    std::vector<torch::Tensor> start;
    for (auto& piece : pieces)
      start.push_back(torch::cat(piece, 1));
    const auto input_ids = torch::tensor(inputs).view({count, longest}).to(device);
    const auto target_ids = torch::tensor(targets).view({count, longest}).to(device);
    const auto length_ids = torch::tensor(lengths).to(device);
    encoder.set_state(start);
    auto total = torch::zeros({count}, torch::dtype(torch::kDouble).device(device));
    train::for_each_chunk(
        model, input_ids, target_ids, length_ids, options.chunk,
        [&](std::int64_t, std::int64_t, const torch::Tensor& log_p) { total += log_p.sum(1); });
    const auto sums = total.cpu();
    for (std::size_t r = begin; r < end; ++r)
      rows[r].log_likelihood = sums[static_cast<std::int64_t>(r - begin)].item<double>();
  }
  encoder.reset();
}

// The shared-prefix reading of one group of sets (see RatioReading).
void ratios_of_group(models::LanguageModel& model, const std::vector<MutantSet>& sets,
                     std::size_t group_begin, std::size_t group_end,
                     const train::LikelihoodOptions& options,
                     std::vector<std::vector<double>>& ratios) {
  const torch::Device device = train::device_of(model);
  auto& encoder = *model.encoder();
  std::vector<SpanRow> reference_rows, mutant_rows;
  std::map<std::tuple<std::size_t, std::size_t, std::size_t>, std::size_t> reference_index;
  std::vector<std::size_t> mutant_reference;  // each mutant row's reference row
  std::set<std::size_t> boundaries;
  for (std::size_t s = group_begin; s < group_end; ++s) {
    const std::size_t column = s - group_begin;
    for (const auto& mutant : sets[s].mutants) {
      const auto span = touched_tokens(sets[s].reference, mutant);
      const auto key = std::make_tuple(column, span.first, span.reference_end);
      auto found = reference_index.find(key);
      if (found == reference_index.end()) {
        found = reference_index.emplace(key, reference_rows.size()).first;
        reference_rows.push_back({column, &sets[s].reference, span.first, span.reference_end, 0});
      }
      mutant_reference.push_back(found->second);
      mutant_rows.push_back({column, &mutant, span.first, span.mutant_end, 0});
      boundaries.insert(span.first);
    }
  }
  // Each reference read once, stopping at every boundary to keep the state there.
  std::vector<const std::vector<std::int32_t>*> references;
  for (std::size_t s = group_begin; s < group_end; ++s)
    references.push_back(&sets[s].reference);
  auto padded = data::pad_batch(references);
  const auto batch = train::batch_tensors(padded, device);
  const auto bos =
      torch::full({batch.ids.size(0), 1}, tokenizers::SpecialIds::bos, batch.ids.options());
  const auto inputs = torch::cat({bos, batch.ids.slice(1, 0, batch.ids.size(1) - 1)}, 1);
  std::map<std::size_t, std::vector<torch::Tensor>> states;
  encoder.reset();
  std::int64_t read = 0;
  for (const std::size_t boundary : boundaries) {
    while (read < static_cast<std::int64_t>(boundary)) {
      const std::int64_t to =
          std::min<std::int64_t>(static_cast<std::int64_t>(boundary), read + options.chunk);
      encoder.forward(inputs.slice(1, read, to));
      read = to;
    }
    states[boundary] = encoder.state();
  }
  // A span that starts at the first token starts from the initial state: zeros shaped as the
  // others, or as one step makes them when no span starts later.
  if (states.count(0) != 0) {
    if (states.size() == 1) encoder.forward(inputs.slice(1, 0, 1));
    const auto& shaped = states.size() > 1 ? std::next(states.begin())->second : encoder.state();
    std::vector<torch::Tensor> zeros;
    for (const auto& tensor : shaped)
      zeros.push_back(torch::zeros_like(tensor));
    states[0] = zeros;
  }
  encoder.reset();
  read_spans(model, reference_rows, states, options, device);
  read_spans(model, mutant_rows, states, options, device);
  std::size_t row = 0;
  for (std::size_t s = group_begin; s < group_end; ++s)
    for (std::size_t m = 0; m < sets[s].mutants.size(); ++m, ++row)
      ratios[s].push_back(mutant_rows[row].log_likelihood -
                          reference_rows[mutant_reference[row]].log_likelihood);
}

}  // namespace

std::vector<std::vector<double>> likelihood_ratios(models::LanguageModel& model,
                                                   const std::vector<MutantSet>& sets,
                                                   const train::LikelihoodOptions& options,
                                                   RatioReading reading) {
  if (reading == RatioReading::whole_windows || !model.encoder()->carries_state())
    return ratios_of_whole_windows(model, sets, options);
  for (const auto& set : sets)
    if (set.reference.empty()) throw Error("internal: a reference without tokens");
  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard no_grad;
  train::Bf16Autocast autocast(options.autocast, train::device_of(model).type());
  std::vector<std::vector<double>> ratios(sets.size());
  const auto group = static_cast<std::size_t>(options.batch_size);
  for (std::size_t begin = 0; begin < sets.size(); begin += group)
    ratios_of_group(model, sets, begin, std::min(sets.size(), begin + group), options, ratios);
  if (was_training) model.train();
  return ratios;
}

}  // namespace genolm::variants
