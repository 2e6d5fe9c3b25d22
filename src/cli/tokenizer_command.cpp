// genolm tokenizer train | encode
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "data/tokenizer_factory.h"
#include "genolm/error.h"
#include "genolm/tokenizers/tokenizer.h"
#include "io/fastx_reader.h"
#include "util/log.h"

namespace genolm::cli {
namespace {

struct TrainOptions {
  data::TokenizerSpec spec;
  std::vector<std::string> inputs;
  std::string out;
  bool overwrite = false;
};

void run_train(const TrainOptions& options, const GlobalOptions& globals) {
  if (std::filesystem::exists(options.out) && !std::filesystem::is_empty(options.out) &&
      !options.overwrite) {
    throw Error(options.out +
                " already exists and is not empty (choose another --out, or "
                "--overwrite)");
  }
  data::TokenizerSpec spec = options.spec;
  spec.threads = globals.resolved_threads();
  const std::vector<std::filesystem::path> inputs(options.inputs.begin(), options.inputs.end());
  const auto tokenizer = data::make_tokenizer(spec, inputs);
  tokenizer->save(options.out);
  log("tokenizer")
      ->info("{} tokenizer with {} tokens saved to {}", tokenizer->kind(), tokenizer->vocab_size(),
             options.out);
}

struct EncodeOptions {
  std::string tokenizer;
  std::string input;
  bool show_tokens = false;
};

void run_encode(const EncodeOptions& options) {
  const auto tokenizer = tokenizers::load_tokenizer(options.tokenizer);
  io::FastxReader reader(options.input, {.alphabet = data::fastx_alphabet(*tokenizer)});
  io::SequenceRecord record;
  std::vector<std::int32_t> ids;
  while (io::read_record(reader, record)) {
    ids.clear();
    tokenizer->encode_into(record.sequence, ids);
    std::cout << record.id << '\t';
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (i > 0) std::cout << ' ';
      if (options.show_tokens)
        std::cout << tokenizer->id_to_token(ids[i]);
      else
        std::cout << ids[i];
    }
    std::cout << '\n';
  }
}

}  // namespace

void register_tokenizer(CLI::App& app, Action& action, const GlobalOptions& globals) {
  auto* command =
      app.add_subcommand("tokenizer", "train a tokenizer, or encode sequences with one");
  command->require_subcommand(1);

  auto train = std::make_shared<TrainOptions>();
  auto* train_command = command->add_subcommand("train", "make a tokenizer folder");
  // The kinds the recipe schema lists for tokenizer.kind: one list for recipes and this flag.
  const auto& kinds = config::find_key("tokenizer.kind")->choices;
  train_command->add_option("--kind", train->spec.kind, "kmer, nucleotide, protein, bpe or unigram")
      ->check(CLI::IsMember(std::vector<std::string>(kinds.begin(), kinds.end())))
      ->capture_default_str();
  train_command->add_option("--k", train->spec.k, "k-mer length, 1 to 8 (kmer)")
      ->capture_default_str();
  train_command->add_option("--stride", train->spec.stride, "k-mer stride, 1 to k (kmer)")
      ->capture_default_str();
  train_command
      ->add_option("--vocab-size", train->spec.vocab_size,
                   "vocabulary size with specials (bpe, unigram)")
      ->capture_default_str();
  train_command
      ->add_option("--piece-bases", train->spec.piece_bases,
                   "sequence piece length for SentencePiece (bpe, unigram)")
      ->capture_default_str();
  train_command
      ->add_option("--train-bases", train->spec.train_bases,
                   "bases SentencePiece samples at most (bpe, unigram)")
      ->capture_default_str();
  train_command->add_option("--seed", train->spec.seed, "sampling seed (bpe, unigram)")
      ->capture_default_str();
  train_command->add_option("--input", train->inputs, "FASTA files to learn from (bpe, unigram)")
      ->type_name("FILE");
  train_command->add_option("--out", train->out, "tokenizer folder to write")
      ->required()
      ->type_name("DIR");
  train_command->add_flag("--overwrite", train->overwrite, "replace an existing folder");
  train_command->callback([&action, &globals, train] {
    action = [&globals, train] {
      run_train(*train, globals);
      return 0;
    };
  });

  auto encode = std::make_shared<EncodeOptions>();
  auto* encode_command =
      command->add_subcommand("encode", "print the token ids of each record (for inspection)");
  encode_command->add_option("--tokenizer", encode->tokenizer, "tokenizer folder")
      ->required()
      ->type_name("DIR");
  encode_command->add_option("--input", encode->input, "FASTA or FASTQ file, plain or gzip")
      ->required()
      ->type_name("FILE");
  encode_command->add_flag("--tokens", encode->show_tokens, "print tokens instead of ids");
  encode_command->callback([&action, encode] {
    action = [encode] {
      run_encode(*encode);
      return 0;
    };
  });
}

}  // namespace genolm::cli
