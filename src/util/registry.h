#pragma once
// Lookup in a registration table (architectures, task kinds): the entry whose `name` matches, or
// an error that names what was asked for and every registered name.

#include <string>
#include <string_view>
#include <vector>

#include "genolm/error.h"

namespace genolm {

template <typename Entry>
const Entry& find_registered(const std::vector<Entry>& table, std::string_view name,
                             std::string_view what) {
  std::string known;
  for (const auto& entry : table) {
    if (entry.name == name) return entry;
    known += (known.empty() ? "" : ", ") + std::string(entry.name);
  }
  throw Error("unknown " + std::string(what) + " '" + std::string(name) + "' (expected " + known +
              ")");
}

}  // namespace genolm
