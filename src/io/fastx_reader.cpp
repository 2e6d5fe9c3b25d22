#include "io/fastx_reader.h"

#include <array>
#include <cstring>
#include <optional>
#include <vector>

#include "genolm/error.h"
#include "io/read_buffer.h"

namespace genolm::io {
namespace {

constexpr std::size_t kBufferBytes = kReadBufferBytes;
constexpr std::size_t kMaxLineBytes = std::size_t{1} << 30;  // FASTQ reads and headers

enum CharClass : std::uint8_t { kInvalid, kBase, kN, kSkip };

struct ClassTable {
  std::array<std::uint8_t, 256> cls{};
};

ClassTable make_class_table(Alphabet alphabet, bool split_n) {
  ClassTable table;
  table.cls.fill(kInvalid);
  auto set_both_cases = [&](char c, CharClass value) {
    table.cls[static_cast<unsigned char>(c)] = value;
    table.cls[static_cast<unsigned char>(c - 'A' + 'a')] = value;
  };
  if (alphabet == Alphabet::dna) {
    for (const char c : std::string_view("ACGTURYKMSWBDHVN"))
      set_both_cases(c, kBase);
    if (split_n) set_both_cases('N', kN);
  } else {
    for (char c = 'A'; c <= 'Z'; ++c)
      set_both_cases(c, kBase);
    table.cls['*'] = kBase;
  }
  table.cls['\r'] = table.cls[' '] = table.cls['\t'] = kSkip;
  return table;
}

std::string describe_char(unsigned char c) {
  if (c >= 0x20 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", c);
  return hex;
}

void strip_cr(std::string& line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
}

}  // namespace

class FastxReader::Impl {
 public:
  Impl(const std::filesystem::path& path, FastxOptions options)
      : file_(path),
        options_(options),
        split_n_(options.alphabet == Alphabet::dna && options.n_run_split > 0),
        table_(make_class_table(options.alphabet, split_n_)),
        buffer_(kBufferBytes) {
    if (options_.chunk_bases == 0) options_.chunk_bases = 1;
    refill();
    if (end_ == 0) throw Error(path.string() + ": empty file (expected FASTA or FASTQ)");
    if (looks_binary(std::string_view(buffer_.data(), std::min<std::size_t>(end_, 4096)))) {
      throw Error(path.string() + ": looks like a binary file (expected FASTA or FASTQ text)");
    }
    // The first character that is not whitespace decides the format.
    while (true) {
      while (pos_ < end_ && is_blank(buffer_[pos_])) {
        if (buffer_[pos_] == '\n') ++line_;
        ++pos_;
      }
      if (pos_ < end_ || !refill()) break;
    }
    if (pos_ == end_)
      throw Error(path.string() + ": holds only whitespace (expected FASTA or FASTQ)");
    const char first = buffer_[pos_];
    if (first == '>') {
      format_ = FastxFormat::fasta;
    } else if (first == '@') {
      format_ = FastxFormat::fastq;
    } else {
      throw Error(where() +
                  ": expected a FASTA header line starting with '>' (or FASTQ '@'), found " +
                  describe_char(static_cast<unsigned char>(first)));
    }
  }

  bool next(SequenceChunk& chunk) {
    if (done_) return false;
    if (!record_open_) {
      if (!open_record()) {
        done_ = true;
        return false;
      }
    }
    begin_chunk(chunk);
    const Outcome outcome =
        format_ == FastxFormat::fasta ? consume_fasta(chunk) : consume_fastq(chunk);
    switch (outcome) {
      case Outcome::chunk_full:
        break;
      case Outcome::segment_break:
        chunk.segment_end = true;
        ++segment_;
        segment_bases_ = 0;
        break;
      case Outcome::record_end:
        finish_record(chunk);
        break;
    }
    stats_.bases += chunk.bases.size();
    return true;
  }

  FastxFormat format() const { return format_; }
  const FastxStats& stats() const { return stats_; }
  const std::filesystem::path& path() const { return file_.path(); }
  double fraction_read() const { return file_.fraction_read(); }

 private:
  enum class Outcome { chunk_full, segment_break, record_end };

  static bool is_blank(char c) { return c == '\n' || c == '\r' || c == ' ' || c == '\t'; }

  std::string where(std::uint64_t line) const {
    return file_.path().string() + " line " + std::to_string(line);
  }
  std::string where() const { return where(line_); }
  // The line just returned by read_line(), within the current record.
  std::string where_record(std::uint64_t line) const {
    return where(line) + " (record '" + id_ + "')";
  }
  std::string where_record() const { return where_record(line_); }

  // Moves unread bytes to the front and reads more; false when nothing more could be read.
  bool refill() {
    if (eof_) return false;
    if (pos_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
    }
    const std::size_t n = file_.read(buffer_.data() + end_, buffer_.size() - end_);
    if (n == 0) eof_ = true;
    end_ += n;
    return n > 0;
  }

  // Reads one whole line without its end; false at the end of the file.
  bool read_line(std::string& line) {
    line.clear();
    last_line_ = line_;
    while (true) {
      if (pos_ == end_ && !refill()) return !line.empty();
      const char* start = buffer_.data() + pos_;
      const auto* newline = static_cast<const char*>(std::memchr(start, '\n', end_ - pos_));
      if (newline != nullptr) {
        line.append(start, newline);
        pos_ += static_cast<std::size_t>(newline - start) + 1;
        ++line_;
        strip_cr(line);
        return true;
      }
      line.append(start, end_ - pos_);
      pos_ = end_;
      if (line.size() > kMaxLineBytes) throw Error(where() + ": line longer than 1 GiB");
    }
  }

  void parse_header(const std::string& line) {
    const std::string_view text = std::string_view(line).substr(1);
    const std::size_t space = text.find_first_of(" \t");
    id_ = std::string(text.substr(0, space));
    description_.clear();
    if (space != std::string_view::npos) {
      const std::size_t rest = text.find_first_not_of(" \t", space);
      if (rest != std::string_view::npos) description_ = std::string(text.substr(rest));
    }
  }

  bool open_record() {
    std::string line;
    // Skip blank lines between records.
    do {
      if (!read_line(line)) return false;
    } while (line.find_first_not_of(" \t") == std::string::npos);
    const char marker = format_ == FastxFormat::fasta ? '>' : '@';
    if (line[0] != marker) {
      throw Error(where(last_line_) + ": expected a header line starting with '" +
                  std::string(1, marker) + "', found " +
                  describe_char(static_cast<unsigned char>(line[0])));
    }
    header_line_ = last_line_;
    parse_header(line);
    record_open_ = true;
    record_pos_ = 0;
    segment_ = 0;
    segment_bases_ = 0;
    pending_n_ = 0;
    pending_text_.clear();
    pending_quality_.clear();
    at_line_start_ = true;
    if (format_ == FastxFormat::fastq) read_fastq_body();
    return true;
  }

  void read_fastq_body() {
    if (!read_line(fastq_bases_)) {
      throw Error(where_record(header_line_) + ": truncated FASTQ record, no sequence line");
    }
    std::string separator;
    if (!read_line(separator) || separator.empty() || separator[0] != '+') {
      throw Error(where_record(last_line_) + ": expected the FASTQ '+' separator line");
    }
    if (!read_line(fastq_quality_)) {
      throw Error(where_record(last_line_) + ": truncated FASTQ record, no quality line");
    }
    if (fastq_quality_.size() != fastq_bases_.size()) {
      throw Error(where_record(last_line_) + ": quality line has " +
                  std::to_string(fastq_quality_.size()) + " characters, expected " +
                  std::to_string(fastq_bases_.size()) + " (one per base)");
    }
    fastq_pos_ = 0;
  }

  void begin_chunk(SequenceChunk& chunk) {
    chunk.id = id_;
    chunk.description = description_;
    chunk.record = stats_.records;
    chunk.header_line = header_line_;
    chunk.segment = segment_;
    chunk.offset = record_pos_ - pending_n_;
    chunk.bases.clear();
    chunk.quality.clear();
    chunk.segment_start = segment_bases_ == 0;
    chunk.segment_end = false;
    chunk.record_end = false;
  }

  void finish_record(SequenceChunk& chunk) {
    if (pending_n_ >= options_.n_run_split && split_n_) {
      stats_.dropped_n += pending_n_;  // a long trailing run is dropped like any other
    } else {
      flush_pending(chunk);
    }
    pending_n_ = 0;
    if (record_pos_ == 0) ++stats_.empty_records;
    chunk.segment_end = true;
    chunk.record_end = true;
    record_open_ = false;
    ++stats_.records;
  }

  void flush_pending(SequenceChunk& chunk) {
    chunk.bases += pending_text_;
    if (format_ == FastxFormat::fastq) chunk.quality += pending_quality_;
    segment_bases_ += pending_text_.size();
    pending_n_ = 0;
    pending_text_.clear();
    pending_quality_.clear();
  }

  // Consumes sequence characters (a FASTA line's bytes, or a FASTQ read) into `chunk`.
  // `consumed` tells how far it got; it stops early when the chunk is full or a segment ends.
  std::optional<Outcome> consume(const char* text, const char* quality, std::size_t n,
                                 std::size_t& consumed, SequenceChunk& chunk) {
    const bool upper = options_.soft_mask == SoftMask::upper;
    const std::size_t limit = options_.chunk_bases;
    for (std::size_t i = 0; i < n; ++i) {
      // Fast path: a run of ordinary bases with no N run pending goes in with one append. This
      // is nearly every byte of a genome.
      if (pending_n_ == 0 && quality == nullptr && chunk.bases.size() < limit) {
        const std::size_t stop = std::min(n, i + (limit - chunk.bases.size()));
        std::size_t end = i;
        while (end < stop && table_.cls[static_cast<unsigned char>(text[end])] == kBase)
          ++end;
        if (end > i) {
          append_bases(chunk.bases, text + i, end - i, upper);
          record_pos_ += end - i;
          segment_bases_ += end - i;
          i = end;
          if (i == n) break;
        }
      }
      const auto c = static_cast<unsigned char>(text[i]);
      switch (table_.cls[c]) {
        case kBase:
          if (pending_n_ > 0) {
            if (pending_n_ >= options_.n_run_split) {
              stats_.dropped_n += pending_n_;
              pending_n_ = 0;
              pending_text_.clear();
              pending_quality_.clear();
              if (segment_bases_ > 0 || !chunk.bases.empty()) {
                consumed = i;
                return Outcome::segment_break;
              }
              chunk.offset = record_pos_;  // a leading run: the segment starts here
            } else if (chunk.bases.size() < limit) {
              flush_pending(chunk);
            }
          }
          if (chunk.bases.size() >= limit) {
            consumed = i;
            return Outcome::chunk_full;
          }
          chunk.bases.push_back(upper && c >= 'a' ? static_cast<char>(c - ('a' - 'A'))
                                                  : static_cast<char>(c));
          if (quality != nullptr) chunk.quality.push_back(quality[i]);
          ++record_pos_;
          ++segment_bases_;
          break;
        case kN:
          ++pending_n_;
          ++record_pos_;
          if (pending_n_ < options_.n_run_split) {
            pending_text_.push_back(upper ? 'N' : static_cast<char>(c));
            if (quality != nullptr) pending_quality_.push_back(quality[i]);
          }
          break;
        case kSkip:
          break;
        default:
          throw Error(where_record() + ": unexpected character " + describe_char(c) +
                      (options_.alphabet == Alphabet::dna
                           ? " in sequence (expected IUPAC nucleotide codes)"
                           : " in sequence (expected amino-acid letters)"));
      }
    }
    consumed = n;
    return std::nullopt;
  }

  static void append_bases(std::string& out, const char* text, std::size_t n, bool upper) {
    if (!upper) {
      out.append(text, n);
      return;
    }
    const std::size_t start = out.size();
    out.resize(start + n);
    char* dest = out.data() + start;
    for (std::size_t i = 0; i < n; ++i) {
      const char c = text[i];
      dest[i] = (c >= 'a' && c <= 'z') ? static_cast<char>(c - ('a' - 'A')) : c;
    }
  }

  Outcome consume_fasta(SequenceChunk& chunk) {
    while (true) {
      if (pos_ == end_ && !refill()) return Outcome::record_end;
      if (at_line_start_) {
        if (buffer_[pos_] == '>') return Outcome::record_end;
        at_line_start_ = false;
      }
      const char* start = buffer_.data() + pos_;
      const std::size_t available = end_ - pos_;
      const auto* newline = static_cast<const char*>(std::memchr(start, '\n', available));
      const std::size_t line_bytes =
          newline != nullptr ? static_cast<std::size_t>(newline - start) : available;
      std::size_t consumed = 0;
      const auto outcome = consume(start, nullptr, line_bytes, consumed, chunk);
      pos_ += consumed;
      if (outcome) return *outcome;
      if (newline != nullptr) {
        ++pos_;
        ++line_;
        at_line_start_ = true;
      }
    }
  }

  Outcome consume_fastq(SequenceChunk& chunk) {
    std::size_t consumed = 0;
    const std::size_t n = fastq_bases_.size() - fastq_pos_;
    // Errors point at the sequence line, two lines above the current one.
    const auto saved_line = line_;
    line_ = header_line_ + 1;
    const auto outcome = consume(fastq_bases_.data() + fastq_pos_,
                                 fastq_quality_.data() + fastq_pos_, n, consumed, chunk);
    line_ = saved_line;
    fastq_pos_ += consumed;
    return outcome ? *outcome : Outcome::record_end;
  }

  InputFile file_;
  FastxOptions options_;
  bool split_n_;
  ClassTable table_;
  FastxFormat format_ = FastxFormat::fasta;
  FastxStats stats_;

  std::vector<char> buffer_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  bool eof_ = false;
  bool done_ = false;
  std::uint64_t line_ = 1;       // line of the next unread byte
  std::uint64_t last_line_ = 0;  // line of the last line read_line() returned
  bool at_line_start_ = true;

  bool record_open_ = false;
  std::string id_;
  std::string description_;
  std::uint64_t header_line_ = 0;
  std::uint64_t record_pos_ = 0;
  std::uint64_t segment_ = 0;
  std::uint64_t segment_bases_ = 0;
  std::uint64_t pending_n_ = 0;
  std::string pending_text_;
  std::string pending_quality_;

  std::string fastq_bases_;
  std::string fastq_quality_;
  std::size_t fastq_pos_ = 0;
};

FastxReader::FastxReader(const std::filesystem::path& path, FastxOptions options)
    : impl_(std::make_unique<Impl>(path, options)) {}
FastxReader::~FastxReader() = default;
FastxReader::FastxReader(FastxReader&&) noexcept = default;
FastxReader& FastxReader::operator=(FastxReader&&) noexcept = default;

bool FastxReader::next(SequenceChunk& chunk) {
  return impl_->next(chunk);
}
FastxFormat FastxReader::format() const {
  return impl_->format();
}
const FastxStats& FastxReader::stats() const {
  return impl_->stats();
}
double FastxReader::fraction_read() const {
  return impl_->fraction_read();
}
const std::filesystem::path& FastxReader::path() const {
  return impl_->path();
}

bool read_record(FastxReader& reader, SequenceRecord& record) {
  SequenceChunk chunk;
  if (!reader.next(chunk)) return false;
  record.id = chunk.id;
  record.description = chunk.description;
  record.header_line = chunk.header_line;
  record.sequence = chunk.bases;
  record.quality = chunk.quality;
  while (!chunk.record_end && reader.next(chunk)) {
    record.sequence += chunk.bases;
    record.quality += chunk.quality;
  }
  return true;
}

}  // namespace genolm::io
