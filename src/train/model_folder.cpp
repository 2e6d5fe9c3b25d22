#include "train/model_folder.h"

#include "genolm/error.h"
#include "models/model_factory.h"
#include "run/model_export.h"
#include "train/module_file.h"

namespace genolm::train {
namespace {

// An LSTM carries its state from chunk to chunk, so at inference its chunk length changes memory
// only (70: fastai's bptt); an encoder with a fixed context reads windows of it.
constexpr std::int64_t kInferenceChunk = 70;

// The modules are built on the CPU, so the weights are read there whichever device saved them.
void load_weights(torch::nn::Module& module, const std::filesystem::path& file) {
  const auto saved = run::existing_weights(file);
  if (!saved) throw Error(file.string() + " is missing: the run has not saved a model yet");
  load_module_file(module, *saved);
}

void load_fine_tuned(ModelFolder& folder) {
  const auto& task = folder.card.task;
  try {
    folder.task = task::task_kind(task.at("kind").get<std::string>()).from_description(task);
    // The head's width must be the task's, or every prediction row would name the wrong class.
    if (task.at("outputs").get<std::int64_t>() != folder.task->outputs()) {
      throw Error(folder.layout.model_card().string() + ": the head has " +
                  task.at("outputs").dump() + " outputs, but the task's classes, labels or " +
                  "targets make " + std::to_string(folder.task->outputs()));
    }
    try {
      folder.classifier = models::make_classifier(folder.encoder, task);
    } catch (const Error& e) {
      throw Error(folder.layout.model_card().string() + ": " + e.what());
    }
    folder.chunk = task.at("chunk").get<std::int64_t>();
    folder.rc_average = task.value("rc_average", false);
    folder.bf16 = task.value("precision", std::string("fp32")) == "bf16";
    const auto& columns = task.at("columns");
    folder.columns.sequence_columns = columns.at("sequence").get<std::vector<std::string>>();
    folder.columns.label_columns = columns.at("label").get<std::vector<std::string>>();
    folder.columns.id_column = columns.at("id").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(folder.layout.model_card().string() + " is malformed (" + e.what() + ")");
  }
  load_weights(*folder.classifier,
               run::weights_in(folder.layout.dir(), folder.layout.classifier_weights()));
  folder.classifier->eval();
}

}  // namespace

ModelFolder load_model_folder(const std::filesystem::path& dir, const torch::Device& device) {
  if (!std::filesystem::is_directory(dir)) {
    throw Error("model folder " + dir.string() +
                " does not exist (expected a run folder of 'genolm pretrain' or 'genolm "
                "finetune')");
  }
  ModelFolder folder;
  folder.layout = run::RunLayout(dir);
  if (!std::filesystem::exists(folder.layout.model_card())) {
    throw Error(dir.string() + " holds no model.json: it is not a genolm run folder");
  }
  folder.card = run::read_model_card(folder.layout.model_card());
  folder.tokenizer = tokenizers::load_tokenizer(folder.layout.tokenizer());
  try {
    folder.encoder = models::make_encoder(folder.card.encoder);
  } catch (const nlohmann::json::exception& e) {
    throw Error(folder.layout.model_card().string() + " is malformed (" + e.what() + ")");
  } catch (const Error& e) {
    throw Error(folder.layout.model_card().string() + ": " + e.what());
  }
  // Weights are read onto the CPU, then moved.
  if (folder.card.fine_tuned()) {
    load_fine_tuned(folder);
    folder.classifier->to(device);
  } else if (folder.card.has_language_model) {
    // AR/TAR shape training only; the dropouts are off in inference mode.
    folder.language_model =
        models::make_language_model(folder.encoder, folder.card.encoder, 0.0, 0.0);
    load_weights(*folder.language_model,
                 run::weights_in(dir, folder.layout.language_model_weights()));
    folder.language_model->eval();
    folder.language_model->to(device);
  } else {
    load_weights(*folder.encoder, run::weights_in(dir, folder.layout.encoder_weights()));
    folder.encoder->to(device);
  }
  if (!folder.card.fine_tuned()) folder.chunk = folder.encoder->window(kInferenceChunk);
  folder.encoder->eval();
  if (folder.tokenizer->vocab_size() != folder.card.encoder.value("vocab_size", -1)) {
    throw Error(dir.string() + ": the tokenizer has " +
                std::to_string(folder.tokenizer->vocab_size()) +
                " tokens but the encoder was built for " +
                folder.card.encoder.value("vocab_size", nlohmann::json()).dump());
  }
  use_bf16(folder, folder.bf16);
  return folder;
}

void use_bf16(ModelFolder& folder, bool bf16) {
  folder.bf16 = bf16;
  folder.encoder->set_bf16(bf16 && folder.encoder->bf16_mode() == models::Bf16Mode::explicit_cast);
}

}  // namespace genolm::train
