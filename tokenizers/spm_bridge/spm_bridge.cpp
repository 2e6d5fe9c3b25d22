#include "spm_bridge.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace {

void write_error(char* error, size_t error_size, const std::string& message) {
  if (error == nullptr || error_size == 0) return;
  const size_t n = std::min(message.size(), error_size - 1);
  std::memcpy(error, message.data(), n);
  error[n] = '\0';
}

// Adapts the C callback to SentencePiece's iterator; the trainer pulls sentences one at a time,
// so training never needs the whole corpus in memory (SentencePiece keeps only its sample).
class CallbackIterator : public sentencepiece::SentenceIterator {
 public:
  CallbackIterator(genolm_spm_next_sentence next, void* context) : next_(next), context_(context) {
    Next();
  }
  bool done() const override { return done_; }
  void Next() override {
    const char* data = nullptr;
    size_t size = 0;
    if (next_(context_, &data, &size) == 1) {
      value_.assign(data, size);
    } else {
      done_ = true;
    }
  }
  const std::string& value() const override { return value_; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  genolm_spm_next_sentence next_;
  void* context_;
  std::string value_;
  bool done_ = false;
};

}  // namespace

extern "C" int genolm_spm_train(const char* args, unsigned seed, genolm_spm_next_sentence next,
                                void* context, char* error, size_t error_size) {
  try {
    sentencepiece::SetRandomGeneratorSeed(seed);
    CallbackIterator sentences(next, context);
    const auto status = sentencepiece::SentencePieceTrainer::Train(args, &sentences);
    if (!status.ok()) {
      write_error(error, error_size, status.ToString());
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    write_error(error, error_size, e.what());
    return 1;
  }
}

extern "C" int genolm_spm_load(const char* model_bytes, size_t size, void** model, char* error,
                               size_t error_size) {
  auto processor = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = processor->LoadFromSerializedProto(std::string_view(model_bytes, size));
  if (!status.ok()) {
    write_error(error, error_size, status.ToString());
    return 1;
  }
  *model = processor.release();
  return 0;
}

extern "C" void genolm_spm_free(void* model) {
  delete static_cast<sentencepiece::SentencePieceProcessor*>(model);
}

extern "C" int32_t genolm_spm_vocab_size(const void* model) {
  return static_cast<const sentencepiece::SentencePieceProcessor*>(model)->GetPieceSize();
}

extern "C" int genolm_spm_encode(const void* model, const char* text, size_t size, int32_t* ids,
                                 size_t capacity, size_t* count, char* error, size_t error_size) {
  const auto* processor = static_cast<const sentencepiece::SentencePieceProcessor*>(model);
  std::vector<int> encoded;
  const auto status = processor->Encode(std::string_view(text, size), &encoded);
  if (!status.ok()) {
    write_error(error, error_size, status.ToString());
    return 1;
  }
  if (encoded.size() > capacity) {
    write_error(error, error_size, "more ids than the output buffer holds");
    return 1;
  }
  std::copy(encoded.begin(), encoded.end(), ids);
  *count = encoded.size();
  return 0;
}

extern "C" int genolm_spm_id_to_piece(const void* model, int32_t id, char* piece, size_t capacity) {
  const auto* processor = static_cast<const sentencepiece::SentencePieceProcessor*>(model);
  if (id < 0 || id >= processor->GetPieceSize()) return -1;
  const std::string& text = processor->IdToPiece(id);
  if (text.size() + 1 > capacity) return -1;
  std::memcpy(piece, text.c_str(), text.size() + 1);
  return static_cast<int>(text.size());
}
