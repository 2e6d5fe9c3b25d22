#include "io/reference_genome.h"

#include <htslib/faidx.h>
#include <htslib/hts_log.h>
#include <unistd.h>

#include <cstdlib>

#include "genolm/error.h"

namespace genolm::io {

struct ReferenceGenome::Index {
  faidx_t* fai = nullptr;
  ~Index() {
    if (fai != nullptr) fai_destroy(fai);
  }
};

namespace {

bool is_bgzip_or_gzip(const std::filesystem::path& file) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (f == nullptr) return false;
  unsigned char magic[2] = {0, 0};
  const bool gzip = std::fread(magic, 1, 2, f) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  std::fclose(f);
  return gzip;
}

}  // namespace

ReferenceGenome::ReferenceGenome(const std::filesystem::path& fasta)
    : path_(fasta), index_(std::make_unique<Index>()) {
  if (!std::filesystem::is_regular_file(fasta)) {
    throw Error("reference " + fasta.string() +
                " does not exist (expected a FASTA file, plain "
                "or bgzip, with or without its .fai index)");
  }
  const std::filesystem::path fai = fasta.string() + ".fai";
  const bool gzip = is_bgzip_or_gzip(fasta);
  const std::filesystem::path gzi = fasta.string() + ".gzi";
  const bool indexed = std::filesystem::exists(fai) && (!gzip || std::filesystem::exists(gzi));
  const auto folder = fasta.has_parent_path() ? fasta.parent_path() : std::filesystem::path(".");
  if (!indexed && ::access(folder.c_str(), W_OK) != 0) {
    throw Error("reference " + fasta.string() + " has no index (" + fai.filename().string() +
                (gzip ? ", " + gzi.filename().string() : std::string()) + ") and its folder " +
                folder.string() +
                " is not writable: index a copy elsewhere ('samtools faidx "
                "FILE'), or give a FASTA beside its index");
  }
  // htslib reports on stderr as it goes; genolm's own error says what happened, once.
  hts_set_log_level(HTS_LOG_OFF);
  index_->fai = fai_load3(fasta.c_str(), nullptr, nullptr, FAI_CREATE);
  if (index_->fai == nullptr) {
    throw Error("reference " + fasta.string() +
                " cannot be indexed: expected FASTA, plain or "
                "bgzip-compressed (a plain gzip file cannot be read by position: recompress it "
                "with 'bgzip'), with lines of equal length within each record");
  }
}

ReferenceGenome::~ReferenceGenome() = default;

std::vector<std::string> ReferenceGenome::contigs() const {
  std::vector<std::string> names;
  for (int i = 0; i < faidx_nseq(index_->fai); ++i)
    names.emplace_back(faidx_iseq(index_->fai, i));
  return names;
}

bool ReferenceGenome::has_contig(const std::string& contig) const {
  return faidx_has_seq(index_->fai, contig.c_str()) != 0;
}

std::int64_t ReferenceGenome::contig_length(const std::string& contig) const {
  if (!has_contig(contig)) {
    throw Error("reference " + path_.string() + " has no contig '" + contig + "'");
  }
  return faidx_seq_len(index_->fai, contig.c_str());
}

std::string ReferenceGenome::fetch(const std::string& contig, std::int64_t begin,
                                   std::int64_t end) const {
  const std::int64_t length = contig_length(contig);
  if (begin < 0 || end > length || begin >= end) {
    throw Error("reference " + path_.string() + ": range " + std::to_string(begin) + "-" +
                std::to_string(end) + " is outside contig '" + contig + "' (" +
                std::to_string(length) + " bases)");
  }
  hts_pos_t fetched = 0;
  // faidx takes an inclusive end.
  char* bases = faidx_fetch_seq64(index_->fai, contig.c_str(), begin, end - 1, &fetched);
  if (bases == nullptr || fetched != end - begin) {
    std::free(bases);
    throw Error("reference " + path_.string() + ": cannot read " + contig + ":" +
                std::to_string(begin + 1) + "-" + std::to_string(end) +
                " (a damaged file, or an index that does not match it)");
  }
  std::string result(bases, static_cast<std::size_t>(fetched));
  std::free(bases);
  return result;
}

}  // namespace genolm::io
