#pragma once
// The corpus a recipe describes: [data] files and options, tokenized with tokenizer.path or a
// tokenizer made from [tokenizer]. Shared by `genolm corpus` and `genolm pretrain`.

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "genolm/tokenizers/tokenizer.h"

#include "config/recipe.h"

namespace genolm::data {

// tokenizer.path when set, else a tokenizer made from the [tokenizer] keys (SentencePiece kinds
// train on `training_files`).
std::unique_ptr<tokenizers::Tokenizer> tokenizer_from_recipe(
    const config::Recipe& recipe, const std::vector<std::filesystem::path>& training_files,
    int threads);

// Builds the corpus folder `out` and returns its manifest. data.train may mix FASTA/FASTQ files
// and CSV/TSV tables (data.sequence_columns). `tokenizer`, when given, is used instead of the
// recipe's (a stage-2 run's parent's).
nlohmann::json build_corpus_from_recipe(const config::Recipe& recipe,
                                        const std::filesystem::path& out, int threads,
                                        bool overwrite,
                                        const tokenizers::Tokenizer* tokenizer = nullptr);

}  // namespace genolm::data
