#include "data/corpus_builder.h"

#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <exception>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "data/markov_baseline.h"
#include "data/token_corpus.h"
#include "data/token_shards.h"
#include "data/tokenizer_factory.h"
#include "genolm/error.h"
#include "genolm/remove_tree.h"
#include "genolm/tokenizers/alphabet.h"
#include "io/labelled.h"
#include "io/table_reader.h"
#include "util/files.h"
#include "util/log.h"
#include "util/progress_log.h"

namespace genolm::data {
namespace {

constexpr int kTrain = 0;
constexpr int kValid = 1;
constexpr const char* kSplitNames[] = {"train", "valid"};

// A run of bases to tokenize, in the order the tokens must be written; a pair's second chain
// follows its first after <sep>.
struct Task {
  std::uint64_t sequence = 0;
  int split = kTrain;
  bool bos = false;
  std::string bases;
  bool paired = false;
  std::string second;
};

struct Written {
  std::uint64_t tokens = 0;
  std::uint64_t pieces = 0;
};

// Workers tokenize tasks in any order; one writer thread appends their ids to the shards in task
// order, so the output is the same whatever the thread count. At most `max_in_flight` tasks exist
// at once, which bounds memory.
class TokenizePipeline {
 public:
  TokenizePipeline(const tokenizers::Tokenizer& tokenizer, int workers, ShardWriter* writers[2])
      : tokenizer_(tokenizer),
        writers_{writers[0], writers[1]},
        max_in_flight_(static_cast<std::size_t>(2 * workers + 2)) {
    for (int i = 0; i < workers; ++i)
      workers_.emplace_back([this] { work(); });
    writer_ = std::thread([this] { write(); });
  }

  ~TokenizePipeline() { stop(); }

  void submit(Task task) {
    std::unique_lock lock(mutex_);
    space_.wait(lock, [this] { return failure_ || submitted_ - written_ < max_in_flight_; });
    if (failure_) std::rethrow_exception(failure_);
    task.sequence = submitted_++;
    tasks_.push_back(std::move(task));
    work_ready_.notify_one();
  }

  // Waits until every task is written; rethrows the first error of any thread.
  void finish() {
    {
      std::unique_lock lock(mutex_);
      space_.wait(lock, [this] { return failure_ || written_ == submitted_; });
    }
    stop();
    if (failure_) std::rethrow_exception(failure_);
  }

  const Written& written(int split) const { return counts_[split]; }

  // A string whose memory a finished task left behind. Reusing buffers keeps the allocator from
  // returning megabytes to the kernel and faulting them back in for every task.
  std::string spare_bases() {
    std::lock_guard lock(mutex_);
    if (spare_bases_.empty()) return {};
    std::string bases = std::move(spare_bases_.back());
    spare_bases_.pop_back();
    return bases;
  }

 private:
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    work_ready_.notify_all();
    result_ready_.notify_all();
    for (auto& worker : workers_) {
      if (worker.joinable()) worker.join();
    }
    if (writer_.joinable()) writer_.join();
  }

  void fail(std::exception_ptr error) {
    std::lock_guard lock(mutex_);
    if (!failure_) failure_ = error;
    work_ready_.notify_all();
    result_ready_.notify_all();
    space_.notify_all();
  }

  std::vector<std::int32_t> take_spare_ids() {
    std::lock_guard lock(mutex_);
    if (spare_ids_.empty()) return {};
    std::vector<std::int32_t> ids = std::move(spare_ids_.back());
    spare_ids_.pop_back();
    return ids;
  }

  void work() {
    try {
      while (true) {
        Task task;
        {
          std::unique_lock lock(mutex_);
          work_ready_.wait(lock, [this] { return stopping_ || failure_ || !tasks_.empty(); });
          if (failure_ || tasks_.empty()) return;
          task = std::move(tasks_.front());
          tasks_.pop_front();
        }
        Result result{task.split, take_spare_ids()};
        if (task.bos) result.ids.push_back(tokenizers::SpecialIds::bos);
        tokenizer_.encode_into(task.bases, result.ids);
        if (task.paired) {
          result.ids.push_back(tokenizers::SpecialIds::sep);
          tokenizer_.encode_into(task.second, result.ids);
        }
        // A piece too short for a single token leaves nothing, not a lone <bos>.
        if (task.bos && result.ids.size() == 1) result.ids.clear();
        result.starts_piece = task.bos && !result.ids.empty();
        std::lock_guard lock(mutex_);
        task.bases.clear();
        spare_bases_.push_back(std::move(task.bases));
        results_.emplace(task.sequence, std::move(result));
        result_ready_.notify_all();
      }
    } catch (...) {
      fail(std::current_exception());
    }
  }

  void write() {
    try {
      while (true) {
        Result result;
        {
          std::unique_lock lock(mutex_);
          result_ready_.wait(lock, [this] {
            return failure_ || results_.count(written_) != 0 ||
                   (stopping_ && written_ == submitted_);
          });
          if (failure_ || results_.count(written_) == 0) return;
          auto node = results_.extract(written_);
          result = std::move(node.mapped());
        }
        writers_[result.split]->append(result.ids);
        counts_[result.split].tokens += result.ids.size();
        if (result.starts_piece) ++counts_[result.split].pieces;
        std::lock_guard lock(mutex_);
        result.ids.clear();
        spare_ids_.push_back(std::move(result.ids));
        ++written_;
        space_.notify_all();
      }
    } catch (...) {
      fail(std::current_exception());
    }
  }

  struct Result {
    int split = kTrain;
    std::vector<std::int32_t> ids;
    bool starts_piece = false;
  };

  const tokenizers::Tokenizer& tokenizer_;
  ShardWriter* writers_[2];
  std::size_t max_in_flight_;
  std::vector<std::thread> workers_;
  std::thread writer_;

  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable result_ready_;
  std::condition_variable space_;
  std::deque<Task> tasks_;
  std::map<std::uint64_t, Result> results_;
  std::uint64_t submitted_ = 0;
  std::uint64_t written_ = 0;
  bool stopping_ = false;
  std::exception_ptr failure_;
  Written counts_[2];
  std::vector<std::string> spare_bases_;
  std::vector<std::vector<std::int32_t>> spare_ids_;
};

// Turns the reader's chunks into tasks: assigns blocks to splits, opens a new piece at every
// segment start or change of split, and cuts long pieces where the tokenizer allows.
class PieceCutter {
 public:
  PieceCutter(const tokenizers::Tokenizer& tokenizer, const CorpusOptions& options,
              TokenizePipeline& pipeline)
      : tokenizer_(tokenizer),
        options_(options),
        pipeline_(pipeline),
        assigner_(options.valid_fraction, options.seed) {}

  void add(const io::SequenceChunk& chunk) {
    if (chunk.segment_start) close_piece();
    const char* bases = chunk.bases.data();
    std::size_t remaining = chunk.bases.size();
    const std::uint64_t block = options_.valid_block_bases;
    while (remaining > 0) {
      if (record_bases_ % block == 0) {
        const int split = assigner_.next_is_valid() ? kValid : kTrain;
        if (split != split_) close_piece();
        split_ = split;
      }
      const std::size_t take = std::min<std::uint64_t>(remaining, block - record_bases_ % block);
      if (!piece_open_) {
        piece_open_ = true;
        needs_bos_ = true;
      }
      buffer_.append(bases, take);
      bases_[split_] += take;
      bases += take;
      remaining -= take;
      record_bases_ += take;
      if (buffer_.size() >= options_.work_bases) flush(false);
    }
    if (chunk.segment_end) close_piece();
    if (chunk.record_end) record_bases_ = 0;
  }

  void close_piece() {
    if (piece_open_) flush(true);
    piece_open_ = false;
  }

  // Two chains of one record, one piece: <bos> first <sep> second. A pair is one block, whatever
  // its length, so its chains never land in different splits.
  void add_pair(std::string first, std::string second) {
    close_piece();
    split_ = assigner_.next_is_valid() ? kValid : kTrain;
    bases_[split_] += first.size() + second.size();
    Task task;
    task.split = split_;
    task.bos = true;
    task.bases = std::move(first);
    task.paired = true;
    task.second = std::move(second);
    pipeline_.submit(std::move(task));
  }

  std::uint64_t bases(int split) const { return bases_[split]; }

 private:
  void flush(bool final) {
    Task task;
    task.split = split_;
    task.bases = pipeline_.spare_bases();
    if (final) {
      std::swap(task.bases, buffer_);
      buffer_.clear();
    } else {
      const auto cut = tokenizer_.stream_split(buffer_.size());
      task.bases.assign(buffer_, 0, cut.encode_bases);
      buffer_.erase(0, cut.next_start);
    }
    task.bos = needs_bos_;
    needs_bos_ = false;
    if (task.bases.empty()) return;
    if (options_.reverse_complement) {
      // The other strand of this stretch, read 5' to 3': a piece of its own.
      Task other;
      other.split = split_;
      other.bos = true;
      other.bases = tokenizers::reverse_complement(task.bases);
      pipeline_.submit(std::move(task));
      pipeline_.submit(std::move(other));
      return;
    }
    pipeline_.submit(std::move(task));
  }

  const tokenizers::Tokenizer& tokenizer_;
  const CorpusOptions& options_;
  TokenizePipeline& pipeline_;
  SplitAssigner assigner_;
  std::string buffer_;
  int split_ = kTrain;
  bool piece_open_ = false;
  bool needs_bos_ = false;
  std::uint64_t record_bases_ = 0;
  std::uint64_t bases_[2] = {0, 0};
};

std::string now_iso8601() {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return text;
}

// A build killed by a signal leaves its staging folder behind; the next build of the same corpus
// removes those whose process is gone.
void remove_stale_staging(const std::filesystem::path& parent, const std::string& prefix) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      remove_tree(entry.path(), ec);
    }
  }
}

// A table's rows as records: the sequence columns only (labels are fine-tuning's).
// How the manifest names an input, and its size on disk: a pipe has neither path nor size.
std::string manifest_path(const std::filesystem::path& input) {
  return io::is_standard_input(input) ? input.string() : std::filesystem::absolute(input).string();
}
std::uintmax_t bytes_on_disk(const std::filesystem::path& input) {
  return io::is_standard_input(input) ? 0 : std::filesystem::file_size(input);
}

io::LabelledSpec table_columns(const CorpusOptions& options) {
  return {.sequence_columns = options.sequence_columns, .label_columns = {}, .id_column = ""};
}

// Feeds a FASTA/FASTQ file to the cutter; returns its entry of the manifest's "inputs".
nlohmann::json read_sequences(const std::filesystem::path& input,
                              const io::FastxOptions& read_options, PieceCutter& cutter) {
  io::FastxReader reader(input, read_options);
  io::SequenceChunk chunk;
  ProgressLog progress("corpus", "bases read", input.filename().string());
  while (reader.next(chunk)) {
    cutter.add(chunk);
    progress.update(reader.stats().bases, reader.fraction_read());
  }
  cutter.close_piece();
  const auto& stats = reader.stats();
  log("corpus")->info("{}: {} records, {} bases ({} N in dropped runs)", input.string(),
                      stats.records, stats.bases, stats.dropped_n);
  return {{"path", manifest_path(input)},
          {"format", reader.format() == io::FastxFormat::fasta ? "fasta" : "fastq"},
          {"bytes", bytes_on_disk(input)},
          {"records", stats.records},
          {"empty_records", stats.empty_records},
          {"bases", stats.bases},
          {"dropped_n_bases", stats.dropped_n}};
}

// Feeds a table to the cutter, a row as a record; returns its entry of the manifest's "inputs".
nlohmann::json read_table(const std::filesystem::path& input, const CorpusOptions& options,
                          PieceCutter& cutter) {
  io::LabelledReader reader(input, table_columns(options));
  io::LabelledExample row;
  io::SequenceChunk chunk;
  chunk.segment_start = chunk.segment_end = chunk.record_end = true;
  std::uint64_t rows = 0, bases = 0;
  while (reader.next(row)) {
    ++rows;
    for (auto& sequence : row.sequences) {
      if (options.soft_mask == io::SoftMask::upper) {
        for (char& c : sequence)
          c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      bases += sequence.size();
    }
    if (row.sequences.size() == 2) {
      cutter.add_pair(std::move(row.sequences[0]), std::move(row.sequences[1]));
    } else {
      chunk.bases = std::move(row.sequences[0]);
      cutter.add(chunk);
    }
  }
  if (rows == 0) throw Error(input.string() + ": the table holds no rows");
  log("corpus")->info("{}: {} rows, {} bases (columns {})", input.string(), rows, bases,
                      nlohmann::json(options.sequence_columns).dump());
  return {{"path", manifest_path(input)},
          {"format", "table"},
          {"sequence_columns", options.sequence_columns},
          {"bytes", bytes_on_disk(input)},
          {"records", rows},
          {"bases", bases}};
}

// The reference a language model must beat (data/markov_baseline.h), from the shards just
// written; the log shows both directions, since pretraining may read the corpus either way.
nlohmann::json fit_markov_chains(const std::filesystem::path& staging, const nlohmann::json& splits,
                                 int width, const tokenizers::Tokenizer& tokenizer) {
  const auto start = std::chrono::steady_clock::now();
  const TokenSplit train(staging, splits.at("train"), width, staging.string() + " split \"train\"");
  const TokenSplit valid(staging, splits.at("valid"), width, staging.string() + " split \"valid\"");
  const nlohmann::json markov = markov_baselines(train, valid, tokenizer);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string figures;
  const auto forward = markov_references(markov, false, "corpus");
  const auto backward = markov_references(markov, true, "corpus");
  for (std::size_t i = 0; i < forward.size(); ++i) {
    figures += fmt::format("{}{} {:.4f} (backward {:.4f})", i == 0 ? "" : ", ", forward[i].name,
                           forward[i].loss, backward[i].loss);
  }
  const auto logger = log("corpus");
  if (!figures.empty())
    logger->info("valid loss of Markov chains fitted on train: {} ({:.2f} s)", figures, seconds);
  for (const auto& order : markov.at("orders")) {
    if (order.contains("skipped")) {
      logger->info("no Markov chain with {} tokens of context: {}",
                   order.at("context_tokens").get<int>(), order.at("skipped").get<std::string>());
    }
  }
  return markov;
}

}  // namespace

SplitAssigner::SplitAssigner(double valid_fraction, std::uint64_t seed)
    : fraction_(valid_fraction) {
  // A seeded start in [0, 1) moves where the first valid block falls without changing the share.
  std::uint64_t x = seed + 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  carry_ = static_cast<double>(x >> 11) / static_cast<double>(1ULL << 53);
}

bool SplitAssigner::next_is_valid() {
  carry_ += fraction_;
  if (carry_ >= 1.0) {
    carry_ -= 1.0;
    return true;
  }
  return false;
}

nlohmann::json build_corpus(const tokenizers::Tokenizer& tokenizer, const CorpusOptions& options) {
  const auto logger = log("corpus");
  if (options.inputs.empty()) throw Error("corpus: no input files given");
  if (options.valid_fraction < 0 || options.valid_fraction >= 1) {
    throw Error("valid fraction " + std::to_string(options.valid_fraction) +
                " is out of range (expected 0 <= f < 1)");
  }
  if (options.valid_block_bases == 0) throw Error("valid block length must be positive");
  if (options.reverse_complement && !tokenizer.reverse_complement_applies()) {
    throw Error("data.reverse_complement applies to DNA, not to a protein tokenizer");
  }
  if (std::filesystem::exists(options.out) && !options.overwrite) {
    throw Error(options.out.string() + " already exists (choose another --out, or --overwrite)");
  }
  // Every input is opened before any work, so a typo fails in a second, not after an hour.
  const io::FastxOptions read_options{.alphabet = fastx_alphabet(tokenizer),
                                      .soft_mask = options.soft_mask,
                                      .n_run_split = options.n_run_split,
                                      .chunk_bases = std::size_t{1} << 20};
  bool tables = false;
  for (const auto& input : options.inputs) {
    if (io::is_standard_input(input)) continue;  // a pipe is read once: checked as it is read
    if (io::named_like_table(input)) {
      io::LabelledReader probe(input, table_columns(options));  // the columns are there
      tables = true;
    } else {
      io::FastxReader probe(input, read_options);
    }
  }
  if (tables && options.reverse_complement && options.sequence_columns.size() == 2) {
    throw Error(
        "data.reverse_complement does not apply to paired chains (data.sequence_columns names "
        "two columns): a pair has no single other strand");
  }

  const auto parent =
      options.out.has_parent_path() ? options.out.parent_path() : std::filesystem::path(".");
  std::filesystem::create_directories(parent);
  const std::string staging_prefix = "." + options.out.filename().string() + ".partial-";
  remove_stale_staging(parent, staging_prefix);
  const auto staging = parent / (staging_prefix + std::to_string(getpid()));
  remove_tree(staging);
  std::filesystem::create_directories(staging);
  struct RemoveOnFailure {
    std::filesystem::path dir;
    bool keep = false;
    ~RemoveOnFailure() {
      std::error_code ignored;
      if (!keep) remove_tree(dir, ignored);
    }
  } cleanup{staging};

  const auto start = std::chrono::steady_clock::now();
  const int width = token_width(tokenizer.vocab_size());
  ShardWriter train_writer(staging, "train", width, options.shard_tokens);
  ShardWriter valid_writer(staging, "valid", width, options.shard_tokens);
  ShardWriter* writers[2] = {&train_writer, &valid_writer};

  nlohmann::json inputs = nlohmann::json::array();
  std::uint64_t bytes_read = 0;
  TokenizePipeline pipeline(tokenizer, std::max(1, options.threads), writers);
  PieceCutter cutter(tokenizer, options, pipeline);
  for (const auto& input : options.inputs) {
    // A pipe has no name to go by: its first character says.
    const bool table =
        io::is_standard_input(input) ? !io::starts_like_fastx(input) : io::named_like_table(input);
    inputs.push_back(table ? read_table(input, options, cutter)
                           : read_sequences(input, read_options, cutter));
    cutter.close_piece();
    bytes_read += inputs.back().at("bytes").get<std::uint64_t>();
  }
  pipeline.finish();
  train_writer.close();
  valid_writer.close();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  tokenizer.save(staging / "tokenizer");
  nlohmann::json splits;
  for (int split : {kTrain, kValid}) {
    nlohmann::json shards = nlohmann::json::array();
    for (const auto& shard : writers[split]->shards()) {
      shards.push_back({{"file", shard.file}, {"tokens", shard.tokens}});
    }
    splits[kSplitNames[split]] = {{"tokens", pipeline.written(split).tokens},
                                  {"pieces", pipeline.written(split).pieces},
                                  {"bases", cutter.bases(split)},
                                  {"shards", shards}};
  }
  const nlohmann::json markov = fit_markov_chains(staging, splits, width, tokenizer);
  nlohmann::json manifest = {
      {"format", kCorpusFormatName},
      {"format_version", kCorpusFormatVersion},
      {"created", now_iso8601()},
      {"genolm_version", GENOLM_VERSION},
      {"vocab_size", tokenizer.vocab_size()},
      {"token_bytes", width},
      {"piece_start_token", "<bos>"},
      {"tokenizer", tokenizers::read_tokenizer_manifest(staging / "tokenizer")},
      {"options",
       {{"valid_fraction", options.valid_fraction},
        {"valid_block_bases", options.valid_block_bases},
        {"seed", options.seed},
        {"soft_mask", options.soft_mask == io::SoftMask::upper ? "upper" : "keep"},
        {"n_run_split", options.n_run_split},
        {"reverse_complement", options.reverse_complement}}},
      {"inputs", inputs},
      {"splits", splits},
      {"markov", markov},
      {"build_seconds", seconds},
      {"threads", options.threads}};
  write_file_atomically(staging / kCorpusManifestName, manifest.dump(2) + "\n");

  remove_tree(options.out);
  std::filesystem::rename(staging, options.out);
  cleanup.keep = true;

  if (options.valid_fraction > 0 && pipeline.written(kValid).tokens == 0) {
    logger->warn(
        "the valid split is empty: the input has too few blocks of {} bases for a valid "
        "fraction of {} (lower data.valid_block_bases)",
        options.valid_block_bases, options.valid_fraction);
  }
  logger->info("{}: train {} tokens, valid {} tokens, {:.1f} MB/s of input in {:.2f} s",
               options.out.string(), pipeline.written(kTrain).tokens,
               pipeline.written(kValid).tokens, bytes_read / 1e6 / std::max(seconds, 1e-9),
               seconds);
  return manifest;
}

}  // namespace genolm::data
