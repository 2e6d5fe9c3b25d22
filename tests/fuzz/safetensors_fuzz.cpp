// The weights loader's container: weights and checkpoints are safetensors files, checked before a
// byte is trusted. Every tensor a file passes is then read whole, as loading copies it.
#include <numeric>

#include "fuzz_input.h"
#include "genolm/error.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace genolm;
  for (const bool require_checksum : {false, true}) {
    try {
      const auto file = io::SafetensorsFile::parse(std::string(fuzz::as_text(data, size)),
                                                   "fuzz.safetensors", require_checksum);
      std::size_t sum = 0;
      for (const auto& tensor : file.tensors()) {
        sum = std::accumulate(tensor.bytes.begin(), tensor.bytes.end(), sum);
        (void)file.find(tensor.name);
      }
      (void)sum;
    } catch (const Error&) {
    }
  }
  return 0;
}
