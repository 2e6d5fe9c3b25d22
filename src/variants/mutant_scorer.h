#pragma once
// Scoring mutants against their reference with a run folder's model, whatever the model is:
//   - a pretraining run's language model: `llr`, the log-likelihood ratio of the mutant over the
//     reference over the tokens the mutation touches (likelihood_ratio.h), zero-shot;
//   - a fine-tuned run: the difference of its outputs, mutant minus reference (DeepSEA's "diff"):
//     `delta_<class>` in probability and `delta_logodds_<class>` in log-odds for classification
//     and multi-label tasks, `delta_<target>` in the target's units for regression;
//   - either, optionally: `embedding_distance`, how far the mutant moves the sequence's embedding.
// Both read sequences the way the model was trained (backwards for a backward model) and can
// average both DNA strands. mutagenesis and variants score through here.

#include <memory>
#include <string>
#include <vector>

#include "train/model_folder.h"

namespace genolm::variants {

// A reference sequence and mutants of it (letters, as in the input); `record` names it in errors.
struct ReferenceMutants {
  std::string record;
  std::string reference;
  std::vector<std::string> mutants;
};

struct ScoringOptions {
  std::int64_t batch_size = 128;
  bool rc_average = false;  // the mean over both DNA strands
  // Adds `embedding_distance`: the Euclidean distance between the mean-pooled last-layer encoder
  // states of the mutant and of the reference (each strand's pooled vectors averaged first).
  bool embedding_distance = false;
};

class MutantScorer {
 public:
  virtual ~MutantScorer() = default;
  // The score columns, in the order score() fills them.
  virtual const std::vector<std::string>& columns() const = 0;
  // scores[set][mutant][column] for every mutant of every set. Throws genolm::Error naming the
  // record whose sequence gives the tokenizer nothing to read.
  virtual std::vector<std::vector<std::vector<double>>> score(
      const std::vector<ReferenceMutants>& sets) = 0;
};

// The scorer of the folder's model (it must outlive the scorer). Throws genolm::Error for a
// pretraining run that keeps no language model, or --rc-average on a protein model.
std::unique_ptr<MutantScorer> make_mutant_scorer(train::ModelFolder& folder,
                                                 const ScoringOptions& options);

}  // namespace genolm::variants
