// genolm embed: a run folder (pretrained or fine-tuned) + sequences -> one pooled vector per
// record as a float32 .npy, and the record ids beside it. The input streams through in blocks, so
// a file larger than memory embeds in bounded memory; output rows keep the input's order.
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/model_input.h"
#include "genolm/error.h"
#include "io/labelled.h"
#include "io/row_writer.h"
#include "io/tsv_field.h"
#include "models/pooling_head.h"
#include "models/sequence_classifier.h"
#include "train/device.h"
#include "train/inference.h"
#include "util/files.h"
#include "util/log.h"

namespace genolm::cli {
namespace {

struct EmbedFlags {
  ModelInputOptions input;
  std::string out = "embeddings.npy";
  std::string pool = "mean";
  std::int64_t layer = 0;
  bool rc_average = false;
};

models::Pooling pooling_of(const std::string& name) {
  if (name == "last") return models::Pooling::last;
  if (name == "max") return models::Pooling::max;
  if (name == "concat") return models::Pooling::concat;
  return models::Pooling::mean;
}

// emb.npy (or emb.safetensors) -> emb.ids.tsv
std::filesystem::path ids_file(const std::filesystem::path& out) {
  auto stem = out;
  if (stem.extension() == ".npy" || stem.extension() == ".safetensors") stem.replace_extension();
  stem += ".ids.tsv";
  return stem;
}

// Pooled vectors [examples x dim] of one block, in the block's order.
torch::Tensor embed_block(models::Encoder& encoder,
                          const std::vector<std::vector<std::int32_t>>& tokens,
                          const EmbedFlags& flags, std::int64_t chunk) {
  return train::map_in_length_batches(tokens, flags.input.batch_size, train::device_of(encoder),
                                      [&](const train::BatchTensors& batch) {
                                        return models::pool_in_chunks(encoder, batch.ids,
                                                                      batch.lengths, chunk,
                                                                      pooling_of(flags.pool));
                                      });
}

int run_embed(const EmbedFlags& flags, const GlobalOptions& globals) {
  at::set_num_threads(globals.resolved_threads());
  auto folder = flags.input.load_folder(flags.input.model());
  auto& encoder = *folder.encoder;
  if (flags.layer < 0 || flags.layer > encoder.layer_count()) {
    throw Error("--layer " + std::to_string(flags.layer) + ": the encoder has layers 1 to " +
                std::to_string(encoder.layer_count()) + " (0 is the last)");
  }
  encoder.set_output_layer(flags.layer);
  encoder.eval();
  if (flags.rc_average && !folder.tokenizer->reverse_complement_applies()) {
    throw Error("--rc-average needs a DNA tokenizer; this model reads proteins");
  }
  torch::NoGradGuard no_grad;

  std::unique_ptr<io::RowWriter> rows;
  const std::map<std::string, std::string> what = {
      {"format", "genolm-embeddings"},
      {"model", flags.input.model()},
      {"pool", flags.pool},
      {"layer", std::to_string(flags.layer == 0 ? encoder.layer_count() : flags.layer)},
      {"rc_average", flags.rc_average ? "true" : "false"},
      {"ids", ids_file(flags.out).filename().string()}};
  std::string ids_text = "id\n";
  const std::size_t total = for_each_block(
      flags.input, folder, flags.rc_average,
      [&](const std::vector<io::LabelledExample>&, const data::TaskExamples& examples) {
        auto vectors = embed_block(encoder, examples.tokens, flags, folder.chunk);
        if (flags.rc_average)
          vectors = (vectors + embed_block(encoder, examples.rc_tokens, flags, folder.chunk)) / 2;
        vectors = vectors.to(torch::kFloat).contiguous();
        if (!rows)
          rows = io::open_row_writer(flags.out, static_cast<std::size_t>(vectors.size(1)), what);
        rows->append(vectors.data_ptr<float>(), static_cast<std::size_t>(vectors.size(0)));
        for (const auto& id : examples.ids)
          ids_text += io::tsv_field(id) + "\n";
      });
  if (!rows) throw Error(flags.input.input + ": holds no records to embed");
  rows->finish();
  const auto ids_path = ids_file(flags.out);
  write_file_atomically(ids_path, ids_text);
  log("embed")->info("{} embeddings ({} pooling, layer {}) written to {} with ids in {}", total,
                     flags.pool, flags.layer == 0 ? encoder.layer_count() : flags.layer, flags.out,
                     ids_path.string());
  return 0;
}

}  // namespace

void register_embed(CLI::App& app, Action& action, const GlobalOptions& globals) {
  auto flags = std::make_shared<EmbedFlags>();
  auto* command = app.add_subcommand(
      "embed",
      "extract sequence embeddings from a pretrained or fine-tuned encoder (.npy or .safetensors)");
  flags->input.add_to(*command);
  command
      ->add_option("--out", flags->out,
                   "float32 [records, dim] array: .npy, or .safetensors (tensor 'embeddings'); "
                   "ids go to <out>.ids.tsv")
      ->capture_default_str();
  command->add_option("--pool", flags->pool, "pooling over the real tokens")
      ->check(CLI::IsMember({"mean", "max", "last", "concat"}))
      ->capture_default_str();
  command->add_option("--layer", flags->layer, "encoder layer to read, 1-based; 0: the last")
      ->capture_default_str();
  command->add_flag("--rc-average", flags->rc_average, "average over both DNA strands");
  command->callback([&action, &globals, flags] {
    action = [&globals, flags] { return run_embed(*flags, globals); };
  });
}

}  // namespace genolm::cli
