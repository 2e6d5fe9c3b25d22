#include "genolm/tokenizers/sentencepiece.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>

#include "../spm_bridge/spm_bridge.h"
#include "genolm/atomic_file.h"
#include "genolm/error.h"
#include "genolm/remove_tree.h"

namespace genolm::tokenizers {
namespace {

constexpr std::string_view kBridgeName = "libgenolm_spm.so";

// The bridge's functions, resolved once per process.
struct Bridge {
  std::string path;
  decltype(&genolm_spm_train) train = nullptr;
  decltype(&genolm_spm_load) load = nullptr;
  decltype(&genolm_spm_free) free = nullptr;
  decltype(&genolm_spm_vocab_size) vocab_size = nullptr;
  decltype(&genolm_spm_encode) encode = nullptr;
  decltype(&genolm_spm_id_to_piece) id_to_piece = nullptr;
};

std::filesystem::path executable_dir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : exe.parent_path();
}

std::vector<std::filesystem::path> bridge_candidates() {
  std::vector<std::filesystem::path> candidates;
  if (const char* env = std::getenv("GENOLM_SPM_BRIDGE"); env != nullptr && *env != '\0') {
    candidates.emplace_back(env);
    return candidates;  // an explicit choice is never second-guessed
  }
  const auto exe_dir = executable_dir();
  if (!exe_dir.empty()) {
    candidates.push_back(exe_dir / kBridgeName);
    candidates.push_back(exe_dir / ".." / "lib" / "genolm" / kBridgeName);
  }
#ifdef GENOLM_SPM_BRIDGE_BUILD_PATH
  candidates.emplace_back(GENOLM_SPM_BRIDGE_BUILD_PATH);
#endif
  return candidates;
}

template <typename Fn>
void resolve(void* handle, const char* name, Fn& fn, const std::string& path) {
  fn = reinterpret_cast<Fn>(dlsym(handle, name));
  if (fn == nullptr) throw Error(path + " does not export " + name + ": rebuild genolm");
}

const Bridge& bridge() {
  static Bridge instance;
  static std::once_flag once;
  static std::string failure;
  std::call_once(once, [] {
    std::string tried;
    for (const auto& candidate : bridge_candidates()) {
      if (!std::filesystem::exists(candidate)) {
        tried += " " + candidate.string();
        continue;
      }
#if GENOLM_SPM_OWN_NAMESPACE
      // AddressSanitizer refuses RTLD_DEEPBIND. A link namespace of the bridge's own isolates
      // SentencePiece's protobuf just as well (its libraries are loaded afresh there); the
      // bridge is built uninstrumented for it, and its C interface passes only plain buffers.
      void* handle = dlmopen(LM_ID_NEWLM, candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
#else
      // RTLD_DEEPBIND makes SentencePiece bind to the protobuf it carries, not LibTorch's.
      void* handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
#endif
      if (handle == nullptr) {
        failure = "cannot load the SentencePiece bridge " + candidate.string() + ": " + dlerror();
        return;
      }
      instance.path = candidate.string();
      try {
        resolve(handle, "genolm_spm_train", instance.train, instance.path);
        resolve(handle, "genolm_spm_load", instance.load, instance.path);
        resolve(handle, "genolm_spm_free", instance.free, instance.path);
        resolve(handle, "genolm_spm_vocab_size", instance.vocab_size, instance.path);
        resolve(handle, "genolm_spm_encode", instance.encode, instance.path);
        resolve(handle, "genolm_spm_id_to_piece", instance.id_to_piece, instance.path);
      } catch (const Error& e) {
        failure = e.what();
      }
      return;
    }
    failure = "cannot find the SentencePiece bridge " + std::string(kBridgeName) +
              " (looked at:" + tried + "); set GENOLM_SPM_BRIDGE to its path";
  });
  if (!failure.empty()) throw Error(failure);
  return instance;
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot read " + file.string());
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void to_upper_in_place(std::string& text) {
  for (char& c : text)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
}

}  // namespace

namespace detail {

// A loaded SentencePiece model behind the bridge.
class SpmModel {
 public:
  explicit SpmModel(const std::string& model_bytes, const std::string& origin) {
    std::array<char, 512> error{};
    if (bridge().load(model_bytes.data(), model_bytes.size(), &handle_, error.data(),
                      error.size()) != 0) {
      throw Error(origin + ": not a SentencePiece model (" + error.data() + ")");
    }
  }
  ~SpmModel() { bridge().free(handle_); }
  SpmModel(const SpmModel&) = delete;
  SpmModel& operator=(const SpmModel&) = delete;

  const void* handle() const { return handle_; }

 private:
  void* handle_ = nullptr;
};

}  // namespace detail

std::string sentencepiece_bridge_path() {
  return bridge().path;
}

SentencePieceTokenizer::SentencePieceTokenizer(std::string kind,
                                               const std::filesystem::path& model_file,
                                               std::size_t piece_bases)
    : kind_(std::move(kind)), piece_bases_(piece_bases) {
  if (!std::filesystem::exists(model_file)) {
    throw Error("SentencePiece model " + model_file.string() + " is missing");
  }
  model_bytes_ = read_file(model_file);
  model_ = std::make_unique<detail::SpmModel>(model_bytes_, model_file.string());
  // genolm's ids must coincide with SentencePiece's, specials first.
  for (std::int32_t id = 0; id < SpecialIds::count; ++id) {
    if (id_to_token(id) != kSpecialNames[id]) {
      throw Error(model_file.string() + ": id " + std::to_string(id) + " is '" + id_to_token(id) +
                  "', expected '" + std::string(kSpecialNames[id]) +
                  "' (train it with 'genolm tokenizer train')");
    }
  }
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::int32_t SentencePieceTokenizer::vocab_size() const {
  return bridge().vocab_size(model_->handle());
}

void SentencePieceTokenizer::encode_into(std::string_view sequence,
                                         std::vector<std::int32_t>& out) const {
  std::string piece;
  std::vector<std::int32_t> ids;
  std::array<char, 512> error{};
  for (std::size_t start = 0; start < sequence.size(); start += piece_bases_) {
    piece.assign(sequence.substr(start, piece_bases_));
    to_upper_in_place(piece);
    ids.resize(piece.size());
    std::size_t count = 0;
    if (bridge().encode(model_->handle(), piece.data(), piece.size(), ids.data(), ids.size(),
                        &count, error.data(), error.size()) != 0) {
      throw Error("SentencePiece could not encode a sequence: " + std::string(error.data()));
    }
    out.insert(out.end(), ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(count));
  }
}

std::string SentencePieceTokenizer::id_to_token(std::int32_t id) const {
  std::array<char, 256> piece{};
  const int length = bridge().id_to_piece(model_->handle(), id, piece.data(), piece.size());
  if (length < 0) {
    throw Error("token id " + std::to_string(id) + " is outside the " + kind_ + " vocabulary of " +
                std::to_string(vocab_size()));
  }
  return std::string(piece.data(), static_cast<std::size_t>(length));
}

std::string SentencePieceTokenizer::decode(std::span<const std::int32_t> ids) const {
  std::string out;
  for (const std::int32_t id : ids) {
    if (id != SpecialIds::pad) out += id_to_token(id);
  }
  return out;
}

StreamSplit SentencePieceTokenizer::stream_split(std::size_t available) const {
  const std::size_t whole = available / piece_bases_ * piece_bases_;
  return {whole, whole};
}

nlohmann::json SentencePieceTokenizer::parameters() const {
  return {{"piece_bases", piece_bases_}, {"model", std::string(kModelFileName)}};
}

void SentencePieceTokenizer::save_files(const std::filesystem::path& dir) const {
  write_file_atomically(dir / kModelFileName, model_bytes_);
}

namespace {

// Feeds SentencePiece upper-cased sentences and counts what it was offered.
struct TrainingFeed {
  const SentenceSource* source;
  std::string sentence;
  std::size_t max_length;
  std::uint64_t sentences = 0;
  std::uint64_t bases = 0;
  std::string failure;
};

int next_training_sentence(void* context, const char** data, std::size_t* size) {
  auto& feed = *static_cast<TrainingFeed*>(context);
  try {
    while ((*feed.source)(feed.sentence)) {
      if (feed.sentence.empty()) continue;
      if (feed.sentence.size() > feed.max_length) {
        // SentencePiece would skip it silently; callers must chunk, so this is a bug upstream.
        feed.failure = "a training sentence of " + std::to_string(feed.sentence.size()) +
                       " characters exceeds the piece length " + std::to_string(feed.max_length);
        return 0;
      }
      to_upper_in_place(feed.sentence);
      ++feed.sentences;
      feed.bases += feed.sentence.size();
      *data = feed.sentence.data();
      *size = feed.sentence.size();
      return 1;
    }
  } catch (const std::exception& e) {
    feed.failure = e.what();  // exceptions must not cross the C boundary
  }
  return 0;
}

}  // namespace

std::unique_ptr<SentencePieceTokenizer> SentencePieceTokenizer::train(
    const SentencePieceOptions& options, const SentenceSource& sentences,
    SentencePieceTrainStats* stats) {
  if (options.kind != "bpe" && options.kind != "unigram") {
    throw Error("SentencePiece kind '" + options.kind + "' is not bpe or unigram");
  }
  if (options.vocab_size <= SpecialIds::count + 4) {
    throw Error("vocab size " + std::to_string(options.vocab_size) + " is too small (expected > " +
                std::to_string(SpecialIds::count + 4) + ")");
  }
  if (options.piece_bases < 16 || options.piece_bases > 65536) {
    throw Error("piece length " + std::to_string(options.piece_bases) +
                " is out of range (expected 16 to 65536 bases)");
  }

  std::error_code ec;
  std::random_device entropy;
  const auto work_dir =
      std::filesystem::temp_directory_path() /
      ("genolm-spm-" + std::to_string(getpid()) + "-" + std::to_string(entropy()));
  std::filesystem::create_directories(work_dir, ec);
  if (ec) throw Error("cannot create " + work_dir.string() + ": " + ec.message());
  struct Cleanup {
    std::filesystem::path dir;
    ~Cleanup() {
      std::error_code ignored;
      remove_tree(dir, ignored);
    }
  } cleanup{work_dir};

  const auto prefix = work_dir / "spm";
  std::ostringstream args;
  args << "--model_prefix=" << prefix.string() << " --model_type=" << options.kind
       << " --vocab_size="
       << options.vocab_size
       // DNA is one long word: no normalisation, no whitespace handling, every base kept.
       << " --character_coverage=1.0 --normalization_rule_name=identity"
       << " --add_dummy_prefix=false --split_by_whitespace=false"
       << " --remove_extra_whitespaces=false --split_digits=false"
       // Longer sentences would be dropped without an error; pieces are never longer than this.
       << " --max_sentence_length=" << options.piece_bases + 1
       << " --input_sentence_size=" << options.max_train_pieces
       << " --shuffle_input_sentence=true --num_threads=" << std::max(1, options.threads)
       << " --pad_id=0 --unk_id=1 --bos_id=2 --eos_id=3 --pad_piece=<pad> --unk_piece=<unk>"
       << " --bos_piece=<bos> --eos_piece=<eos> --control_symbols=<sep>,<cls>,<mask>"
       << " --minloglevel=2";

  TrainingFeed feed{&sentences, {}, options.piece_bases, 0, 0, {}};
  std::array<char, 1024> error{};
  const int status = bridge().train(args.str().c_str(), static_cast<unsigned>(options.seed),
                                    &next_training_sentence, &feed, error.data(), error.size());
  if (!feed.failure.empty()) throw Error("SentencePiece training input: " + feed.failure);
  if (feed.sentences == 0) throw Error("SentencePiece training got no sequence to learn from");
  if (status != 0) throw Error("SentencePiece training failed: " + std::string(error.data()));
  if (stats != nullptr) *stats = {feed.sentences, feed.bases};

  return std::make_unique<SentencePieceTokenizer>(options.kind, prefix.string() + ".model",
                                                  options.piece_bases);
}

}  // namespace genolm::tokenizers
