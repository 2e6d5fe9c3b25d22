// tokenizer.json, as a run folder's tokenizer/ holds it: its manifest is read and, for the k-mer
// and character tokenizers, the tokenizer is built from it and encodes a short DNA sequence.
#include "fuzz_input.h"
#include "genolm/error.h"
#include "genolm/tokenizers/tokenizer.h"

#include <algorithm>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace genolm;
  const auto file = fuzz::write_input("tokenizer.json", fuzz::as_text(data, size));
  try {
    (void)tokenizers::read_tokenizer_manifest(file.parent_path());
    const auto tokenizer = tokenizers::load_tokenizer(file.parent_path());
    (void)tokenizer->encode("ACGTNACGTTGCA");
    (void)tokenizer->encode_pair("ACGT", "TTGCA");
    for (std::int32_t id = 0; id < std::min<std::int32_t>(tokenizer->vocab_size(), 64); ++id)
      (void)tokenizer->id_to_token(id);
  } catch (const Error&) {
  }
  return 0;
}
