#include "train/lm_baselines.h"

#include <cmath>

#include <fmt/format.h>

#include "util/log.h"

namespace genolm::train {

LmBaselines lm_baselines(const data::TokenCorpus& corpus, const tokenizers::Tokenizer& tokenizer,
                         bool backward) {
  LmBaselines baselines;
  baselines.backward = backward;
  baselines.uniform = std::log(static_cast<double>(tokenizer.vocab_size()));
  baselines.stride_prior = tokenizer.stride_prior();
  baselines.valid_tokens = corpus.valid().size();
  const auto where = (corpus.tokenizer_dir().parent_path() / data::kCorpusManifestName).string();
  const auto recorded = corpus.manifest().find("markov");
  if (recorded != corpus.manifest().end()) {
    baselines.markov = data::markov_references(*recorded, backward, where);
  } else {
    log("train")->info("{} records no Markov chains (an older corpus): fitting them now", where);
    baselines.markov = data::markov_references(
        data::markov_baselines(corpus.train(), corpus.valid(), tokenizer), backward, where);
  }
  return baselines;
}

nlohmann::json to_json(const LmBaselines& baselines) {
  nlohmann::json markov = nlohmann::json::array();
  for (const auto& chain : baselines.markov) {
    nlohmann::json entry = {{"context_tokens", chain.context_tokens}, {"valid_loss", chain.loss}};
    if (chain.order) {
      entry["order"] = *chain.order;
      entry["order_unit"] = "bases";
    } else {
      entry["order"] = chain.context_tokens;
      entry["order_unit"] = "tokens";
    }
    markov.push_back(entry);
  }
  const bool prior = !std::isnan(baselines.stride_prior);
  return {{"direction", baselines.backward ? "backward" : "forward"},
          {"markov", markov},
          {"uniform", baselines.uniform},
          {"stride_prior", prior ? nlohmann::json(baselines.stride_prior) : nlohmann::json()},
          {"valid_tokens", baselines.valid_tokens}};
}

std::string describe(const LmBaselines& baselines) {
  std::string text;
  for (const auto& chain : baselines.markov)
    text += fmt::format("{}{} {:.4f}", text.empty() ? "" : ", ", chain.name, chain.loss);
  text = text.empty()
             ? "no Markov chain (the corpus records why)"
             : text + fmt::format(" (fitted on train, read {}): the losses a model must beat",
                                  baselines.backward ? "backward" : "forward");
  text += fmt::format("; floors: uniform ln V = {:.4f}", baselines.uniform);
  if (!std::isnan(baselines.stride_prior))
    text += fmt::format(", stride prior {:.4f}", baselines.stride_prior);
  return "valid-split baselines: " + text;
}

std::string verdict(const LmBaselines& baselines, double valid_loss) {
  if (baselines.markov.empty()) {
    const bool prior = !std::isnan(baselines.stride_prior);
    const double floor = prior ? baselines.stride_prior : baselines.uniform;
    return fmt::format("{} {:.4f}: {}", prior ? "stride prior" : "uniform", floor,
                       valid_loss < floor ? "beats it" : "does not beat it");
  }
  std::string figures, beaten, unbeaten;
  for (const auto& chain : baselines.markov) {
    figures += fmt::format("{}{} {:.4f}", figures.empty() ? "" : ", ", chain.name, chain.loss);
    // "order-3 Markov" -> "order-3"
    const std::string order = chain.name.substr(0, chain.name.find(' '));
    std::string& list = valid_loss < chain.loss ? beaten : unbeaten;
    list += (list.empty() ? "" : ", ") + order;
  }
  const std::size_t count = baselines.markov.size();
  std::string outcome;
  if (unbeaten.empty())
    outcome = count == 1 ? "beats it" : count == 2 ? "beats both" : "beats all";
  else if (beaten.empty())
    outcome = count == 1 ? "does not beat it" : count == 2 ? "beats neither" : "beats none";
  else
    outcome = "beats " + beaten + ", not " + unbeaten;
  return figures + ": " + outcome;
}

}  // namespace genolm::train
