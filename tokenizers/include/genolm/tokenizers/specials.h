#pragma once
// Special tokens shared by every tokenizer kind. They occupy the first ids in the same order in
// every vocabulary, so a model can treat padding and boundaries the same whatever the tokenizer.

#include <array>
#include <cstdint>
#include <string_view>

namespace genolm::tokenizers {

struct SpecialIds {
  static constexpr std::int32_t pad = 0;
  static constexpr std::int32_t unk = 1;
  static constexpr std::int32_t bos = 2;
  static constexpr std::int32_t eos = 3;
  static constexpr std::int32_t sep = 4;
  static constexpr std::int32_t cls = 5;
  static constexpr std::int32_t mask = 6;
  static constexpr std::int32_t count = 7;
};

// Printable names, indexed by id.
inline constexpr std::array<std::string_view, SpecialIds::count> kSpecialNames = {
    "<pad>", "<unk>", "<bos>", "<eos>", "<sep>", "<cls>", "<mask>"};

// Short keys used in manifests ("pad", "unk", ...), indexed by id.
inline constexpr std::array<std::string_view, SpecialIds::count> kSpecialKeys = {
    "pad", "unk", "bos", "eos", "sep", "cls", "mask"};

inline bool is_special(std::int32_t id) {
  return id >= 0 && id < SpecialIds::count;
}

}  // namespace genolm::tokenizers
