// Recipes: the first line is a --set assignment (KEY=VALUE), the rest a TOML recipe file. Both are
// merged and checked as 'genolm pretrain/finetune' would, then dumped as config.toml is written.
#include "config/recipe.h"
#include "fuzz_input.h"
#include "genolm/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace genolm;
  const auto text = fuzz::as_text(data, size);
  const auto newline = text.find('\n');
  const auto assignment = text.substr(0, newline);
  const auto toml =
      newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
  const auto file = fuzz::write_input("recipe.toml", toml);
  try {
    config::Recipe recipe;
    recipe.merge_file(file);
    recipe.set(assignment);
    for (const auto command :
         {config::Command::corpus, config::Command::pretrain, config::Command::finetune}) {
      try {
        recipe.check_read_by(command);
      } catch (const Error&) {
      }
    }
    (void)recipe.dump();
  } catch (const Error&) {
  }
  return 0;
}
