#include "cli/model_input.h"

#include "io/labelled.h"

namespace genolm::cli {

void ModelInputOptions::add_to(CLI::App& command) {
  command.add_option("--model", model, "a run folder of 'genolm finetune' (or 'genolm pretrain')")
      ->required();
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
}

io::LabelledSpec ModelInputOptions::columns(const train::ModelFolder& folder,
                                            bool with_labels) const {
  io::LabelledSpec spec = folder.fine_tuned() ? folder.columns : io::LabelledSpec{};
  if (!sequence_columns.empty()) spec.sequence_columns = sequence_columns;
  if (!id_column.empty()) spec.id_column = id_column;
  if (!with_labels) spec.label_columns.clear();
  return spec;
}

data::TaskExamples read_examples(const ModelInputOptions& options, const train::ModelFolder& folder,
                                 bool with_labels, bool both_strands) {
  const auto records = io::read_labelled(options.input, options.columns(folder, with_labels));
  return data::encode_examples(records, *folder.tokenizer, folder.scheme, options.input,
                               {.with_labels = with_labels, .reverse_complement = both_strands});
}

}  // namespace genolm::cli
