// model.json, the model card every command that loads a run folder reads first.
#include "fuzz_input.h"
#include "genolm/error.h"
#include "run/model_card.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace genolm;
  const auto file = fuzz::write_input("model.json", fuzz::as_text(data, size));
  try {
    const auto card = run::read_model_card(file);
    (void)card.fine_tuned();
  } catch (const Error&) {
  }
  return 0;
}
