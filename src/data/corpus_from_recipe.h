#pragma once
// The corpus a recipe describes: [data] files and options, tokenized with tokenizer.path or a
// tokenizer made from [tokenizer]. Shared by `genolm corpus` and `genolm pretrain`.

#include <filesystem>
#include <nlohmann/json.hpp>

#include "config/recipe.h"

namespace genolm::data {

// Builds the corpus folder `out` and returns its manifest.
nlohmann::json build_corpus_from_recipe(const config::Recipe& recipe,
                                        const std::filesystem::path& out, int threads,
                                        bool overwrite);

}  // namespace genolm::data
