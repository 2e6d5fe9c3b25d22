#pragma once
// C interface of libgenolm_spm.so, the only code that links SentencePiece. Keeping SentencePiece
// (and the protobuf it carries) behind dlopen lets it live in one process with LibTorch.
// Functions return 0 on success; on failure they write a message into `error` (capacity
// `error_size`) and return non-zero.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Stores the next sentence in *data/*size (valid until the next call) and returns 1, or returns 0
// at the end.
typedef int (*genolm_spm_next_sentence)(void* context, const char** data, size_t* size);

// Trains with SentencePiece's command-line style `args` on sentences from `next`, writing
// `<model_prefix>.model` as `args` says. `seed` fixes SentencePiece's sampling.
int genolm_spm_train(const char* args, unsigned seed, genolm_spm_next_sentence next, void* context,
                     char* error, size_t error_size);

// Loads a serialized model; *model receives a handle for the calls below.
int genolm_spm_load(const char* model_bytes, size_t size, void** model, char* error,
                    size_t error_size);
void genolm_spm_free(void* model);
int32_t genolm_spm_vocab_size(const void* model);

// Encodes `text` into `ids` (capacity `capacity`); *count receives the number of ids, which never
// exceeds the number of bytes in `text`.
int genolm_spm_encode(const void* model, const char* text, size_t size, int32_t* ids,
                      size_t capacity, size_t* count, char* error, size_t error_size);

// Copies the piece of `id` (NUL-terminated) into `piece`; returns its length, or -1 if it does not
// fit or the id is out of range.
int genolm_spm_id_to_piece(const void* model, int32_t id, char* piece, size_t capacity);

#ifdef __cplusplus
}
#endif
