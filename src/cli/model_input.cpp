#include "cli/model_input.h"

#include <algorithm>

#include "data/tokenizer_factory.h"
#include "genolm/error.h"
#include "genolm/tokenizers/specials.h"
#include "io/labelled.h"
#include "train/device.h"
#include "train/inference.h"
#include "util/heap.h"
#include "util/log.h"

namespace genolm::cli {

void ModelInputOptions::add_to(CLI::App& command, ModelCount count) {
  if (count == ModelCount::one) {
    command
        .add_option("--model", models, "a run folder of 'genolm finetune' (or 'genolm pretrain')")
        ->required()
        ->expected(1);
  } else {
    command
        .add_option("--model", models,
                    "a run folder of 'genolm finetune'; several (repeat --model, or list them) "
                    "make an ensemble whose probabilities or values are averaged, e.g. a forward "
                    "and a backward model")
        ->required();
  }
  command.add_option("--input", input, "sequences: FASTA, or a CSV/TSV table (plain or gzip)")
      ->required();
  command.add_option("--sequence-columns", sequence_columns,
                     "table columns holding the sequence (two for paired chains); default: the "
                     "model's");
  command.add_option("--id-column", id_column,
                     "table column holding record ids; default: the "
                     "model's");
  command.add_option("--batch-size", batch_size, "sequences per batch")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  DeviceOptions::add_to(command);
}

void DeviceOptions::add_to(CLI::App& command) {
  command
      .add_option("--device", device,
                  "where the model runs: auto (a GPU when CUDA is available), cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  command
      .add_option("--precision", precision,
                  "arithmetic: fp32, bf16 (fp32 weights, bf16 products: faster, about 3 "
                  "significant digits), or auto (fp32 on the CPU, where it is exact; the run's "
                  "own precision on a GPU)")
      ->check(CLI::IsMember({"auto", "fp32", "bf16"}))
      ->capture_default_str();
}

train::ModelFolder DeviceOptions::load_folder(const std::string& model) const {
  const auto where = resolved_device();
  auto folder = train::load_model_folder(model, where);
  if (precision != "auto" || where.is_cpu()) train::use_bf16(folder, precision == "bf16");
  // Inference runs batch after batch of the same shapes, as training runs steps: without this,
  // each batch faulted its large buffers (an LSTM's input projections) in again page by page,
  // about a quarter of `genolm variants`' time on 2 cores.
  keep_freed_memory_in_heap();
  return folder;
}

io::LabelledSpec ModelInputOptions::columns(const train::ModelFolder& folder,
                                            bool with_labels) const {
  io::LabelledSpec spec = folder.fine_tuned() ? folder.columns : io::LabelledSpec{};
  if (!sequence_columns.empty()) spec.sequence_columns = sequence_columns;
  if (!id_column.empty()) spec.id_column = id_column;
  if (!with_labels) spec.label_columns.clear();
  spec.fastx_alphabet = data::fastx_alphabet(*folder.tokenizer);
  return spec;
}

void StrandFlags::add_to(CLI::App& command) {
  command.add_flag("--rc-average", rc_average,
                   "average over both DNA strands (default: as the model was fine-tuned)");
  command.add_flag("--no-rc-average", no_rc_average, "read the given strand only");
}

torch::Device DeviceOptions::resolved_device() const {
  return train::training_device(device, 0);
}

train::ModelFolder load_fine_tuned(const std::string& model, const DeviceOptions& options,
                                   const std::string& command) {
  auto folder = options.load_folder(model);
  if (!folder.fine_tuned()) {
    throw Error(model + " is a pretraining run: " + command +
                " needs a fine-tuned run (use 'genolm embed' for a language model's embeddings)");
  }
  return folder;
}

task::Predictions predict_with(train::ModelFolder& folder, const data::TaskExamples& examples,
                               std::int64_t batch_size, bool rc_average) {
  return train::predict(
      *folder.classifier, examples, *folder.task,
      {.batch_size = batch_size, .autocast = folder.autocast(), .rc_average = rc_average});
}

namespace {

// Records most of whose tokens the model cannot read (a protein fed to a DNA model, say) would be
// predicted with confidence and without a word: they are counted, and the count is warned about
// once.
class UnknownTokenCheck {
 public:
  static constexpr double kLargestShare = 0.5;

  explicit UnknownTokenCheck(const ModelInputOptions& options) : options_(options) {}

  void add(const data::TaskExamples& examples) {
    for (std::size_t i = 0; i < examples.size(); ++i) {
      const auto& tokens = examples.tokens[i];
      const auto unknown = std::count(tokens.begin(), tokens.end(), tokenizers::SpecialIds::unk);
      if (!tokens.empty() && static_cast<double>(unknown) > kLargestShare * tokens.size()) {
        if (flagged_ == 0) first_ = examples.ids[i];
        ++flagged_;
      }
    }
  }

  ~UnknownTokenCheck() {
    if (flagged_ == 0) return;
    log("input")->warn(
        "{}: {} record{} (the first: '{}') are mostly tokens {} cannot read (<unk>): is this "
        "the kind of sequence it was trained on (DNA or protein)? Their outputs mean little",
        options_.input, flagged_, flagged_ > 1 ? "s" : "", first_, options_.model());
  }

 private:
  const ModelInputOptions& options_;
  std::size_t flagged_ = 0;
  std::string first_;
};

}  // namespace

std::size_t for_each_block(const ModelInputOptions& options, const train::ModelFolder& folder,
                           bool both_strands,
                           const std::function<void(const std::vector<io::LabelledExample>&,
                                                    const data::TaskExamples&)>& use) {
  constexpr std::size_t kBlockRecords = 4096;  // records read, sorted by length and run at once
  io::LabelledReader reader(options.input, options.columns(folder, false));
  std::vector<io::LabelledExample> block;
  io::LabelledExample example;
  std::size_t total = 0;
  UnknownTokenCheck check(options);
  const auto flush = [&] {
    if (block.empty()) return;
    const auto examples = data::encode_examples(
        block, *folder.tokenizer, folder.scheme(), options.input,
        {.with_labels = false, .reverse_complement = both_strands, .backward = folder.backward()});
    check.add(examples);
    use(block, examples);
    total += block.size();
    block.clear();
  };
  while (reader.next(example)) {
    block.push_back(example);
    if (block.size() == kBlockRecords) flush();
  }
  flush();
  return total;
}

data::TaskExamples read_examples(const ModelInputOptions& options, const train::ModelFolder& folder,
                                 bool with_labels, bool both_strands) {
  const auto records = io::read_labelled(options.input, options.columns(folder, with_labels));
  auto examples = data::encode_examples(records, *folder.tokenizer, folder.scheme(), options.input,
                                        {.with_labels = with_labels,
                                         .reverse_complement = both_strands,
                                         .backward = folder.backward()});
  UnknownTokenCheck(options).add(examples);
  return examples;
}

}  // namespace genolm::cli
