#include "train/model_folder.h"

#include <fstream>

#include "genolm/error.h"
#include "models/model_factory.h"
#include "train/module_file.h"
#include "util/files.h"

namespace genolm::train {
namespace {

// The modules are built on the CPU, so the weights are read there whichever device saved them.
void load_weights(torch::nn::Module& module, const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) {
    throw Error(file.string() + " is missing: the run has not saved a model yet");
  }
  load_module_file(module, file);
}

}  // namespace

data::LabelScheme scheme_of(const nlohmann::json& task) {
  data::LabelScheme scheme;
  if (task.at("kind") == "classification") {
    scheme.kind = data::TaskKind::classification;
    scheme.classes = task.at("classes").get<std::vector<std::string>>();
  } else {
    scheme.kind = data::TaskKind::regression;
    scheme.targets = task.at("targets").get<std::vector<std::string>>();
  }
  return scheme;
}

TargetScaling scaling_of(const nlohmann::json& task) {
  TargetScaling scaling;
  if (const auto found = task.find("scaling"); found != task.end() && !found->is_null()) {
    scaling.mean = found->at("mean").get<std::vector<double>>();
    scaling.deviation = found->at("deviation").get<std::vector<double>>();
  }
  return scaling;
}

ModelFolder load_model_folder(const std::filesystem::path& dir, const torch::Device& device) {
  if (!std::filesystem::is_directory(dir)) {
    throw Error("model folder " + dir.string() +
                " does not exist (expected a run folder of 'genolm pretrain' or 'genolm "
                "finetune')");
  }
  if (!std::filesystem::exists(dir / "model.json")) {
    throw Error(dir.string() + " holds no model.json: it is not a genolm run folder");
  }
  ModelFolder folder;
  folder.dir = dir;
  folder.description = read_json_file(dir / "model.json");
  folder.tokenizer = tokenizers::load_tokenizer(dir / "tokenizer");
  try {
    const auto& encoder = folder.description.at("encoder");
    folder.encoder = models::make_encoder(encoder);
    const auto& task = folder.description.at("task");
    if (task.is_object()) {
      folder.classifier = models::make_classifier(folder.encoder, encoder, task);
      load_weights(*folder.classifier, dir / "classifier.pt");
      folder.classifier->eval();
      folder.scheme = scheme_of(task);
      folder.scaling = scaling_of(task);
      folder.chunk = task.at("chunk").get<std::int64_t>();
      folder.rc_average = task.value("rc_average", false);
      folder.bf16 = task.value("precision", std::string("fp32")) == "bf16";
      const auto& columns = task.at("columns");
      folder.columns.sequence_columns = columns.at("sequence").get<std::vector<std::string>>();
      folder.columns.label_columns = columns.at("label").get<std::vector<std::string>>();
      folder.columns.id_column = columns.at("id").get<std::string>();
    } else {
      load_weights(*folder.encoder, dir / "encoder.pt");
      // The transformer reads windows of its context; the LSTM carries its state from chunk to
      // chunk, so at inference its chunk length changes memory only (70: fastai's bptt).
      folder.chunk =
          encoder.at("arch") == "transformer" ? encoder.at("context").get<std::int64_t>() : 70;
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error((dir / "model.json").string() + " is malformed (" + e.what() + ")");
  }
  // Weights are read onto the CPU whichever device saved them, then moved.
  if (folder.classifier) {
    folder.classifier->to(device);
  } else {
    folder.encoder->to(device);
  }
  folder.encoder->eval();
  if (folder.tokenizer->vocab_size() != folder.description["encoder"].value("vocab_size", -1)) {
    throw Error(dir.string() + ": the tokenizer has " +
                std::to_string(folder.tokenizer->vocab_size()) +
                " tokens but the encoder was built for " +
                folder.description["encoder"].value("vocab_size", nlohmann::json()).dump());
  }
  folder.encoder->set_bf16(folder.bf16 && !folder.transformer());
  return folder;
}

}  // namespace genolm::train
