// corpus.json, the manifest of a token corpus (data.corpus): opened beside two small shards, then
// every token of both splits is read, as pretraining's stream would, in pieces.
#include <algorithm>
#include <vector>

#include "data/token_corpus.h"
#include "fuzz_input.h"
#include "genolm/error.h"

namespace {

// Shards a manifest may name: 24 bytes each, 12 uint16 or 6 uint32 tokens of small ids.
void write_shards() {
  static bool written = false;
  if (written) return;
  const std::string bytes = std::string("\x01\x00\x02\x00\x03\x00\x04\x00", 8) +
                            std::string("\x05\x00\x06\x00\x07\x00\x08\x00", 8) +
                            std::string("\x09\x00\x0a\x00\x0b\x00\x0c\x00", 8);
  for (const char* name :
       {"train-00000.u16", "valid-00000.u16", "train-00000.u32", "valid-00000.u32"})
    genolm::fuzz::write_input(name, bytes);
  written = true;
}

void read_all(const genolm::data::TokenSplit& split) {
  std::vector<std::int32_t> out(5);
  for (std::uint64_t at = 0; at < split.size(); at += out.size()) {
    const auto count =
        static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), split.size() - at));
    split.read(at, count, out.data());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace genolm;
  write_shards();
  const auto file = fuzz::write_input("corpus.json", fuzz::as_text(data, size));
  try {
    data::TokenCorpus corpus(file.parent_path());
    read_all(corpus.train());
    read_all(corpus.valid());
  } catch (const Error&) {
  }
  return 0;
}
