#include "io/vcf_reader.h"

#include <htslib/hts.h>
#include <htslib/hts_log.h>
#include <htslib/vcf.h>

#include "genolm/error.h"

namespace genolm::io {

struct VcfReader::Handles {
  htsFile* file = nullptr;
  bcf_hdr_t* header = nullptr;
  bcf1_t* record = nullptr;
  ~Handles() {
    if (record != nullptr) bcf_destroy(record);
    if (header != nullptr) bcf_hdr_destroy(header);
    if (file != nullptr) hts_close(file);
  }
};

VcfReader::VcfReader(const std::filesystem::path& path)
    : path_(path), handles_(std::make_unique<Handles>()) {
  if (!std::filesystem::is_regular_file(path)) {
    throw Error("variant file " + path.string() +
                " does not exist (expected VCF or BCF, plain "
                "or bgzipped)");
  }
  hts_set_log_level(HTS_LOG_OFF);  // genolm's own errors say what went wrong, once
  handles_->file = hts_open(path.c_str(), "r");
  const htsFormat* format = handles_->file ? hts_get_format(handles_->file) : nullptr;
  if (format == nullptr || (format->format != vcf && format->format != bcf)) {
    throw Error("variant file " + path.string() +
                " is not VCF or BCF (expected a header "
                "starting '##fileformat=VCF')");
  }
  handles_->header = bcf_hdr_read(handles_->file);
  if (handles_->header == nullptr) {
    throw Error("variant file " + path.string() +
                ": its VCF header cannot be read (expected "
                "'##' meta lines, then the '#CHROM POS ID REF ALT ...' line)");
  }
  // Samples are never scored: skipping them makes large cohort files fast to read.
  if (bcf_hdr_set_samples(handles_->header, nullptr, 0) < 0) {
    throw Error("variant file " + path.string() + ": cannot drop its sample columns");
  }
  handles_->record = bcf_init();
}

VcfReader::~VcfReader() = default;

bool VcfReader::next(VcfVariant& variant) {
  const int status = bcf_read(handles_->file, handles_->header, handles_->record);
  if (status == -1) return false;
  ++records_;
  bcf1_t* record = handles_->record;
  // Contigs and INFO or FORMAT tags missing from the header are common and harmless here (htslib
  // adds them); anything else it flags leaves the record unusable.
  const int fatal = record->errcode & ~(BCF_ERR_CTG_UNDEF | BCF_ERR_TAG_UNDEF);
  if (status < -1 || fatal != 0 || record->pos < 0 || bcf_unpack(record, BCF_UN_STR) != 0) {
    throw Error("variant file " + path_.string() + ": record " + std::to_string(records_) +
                " after the header is malformed (expected CHROM, POS, ID, REF and ALT in "
                "tab-separated columns, POS a positive number)");
  }
  variant.record = records_;
  variant.chrom = bcf_hdr_id2name(handles_->header, record->rid);
  variant.position = record->pos + 1;
  variant.id = record->d.id != nullptr ? record->d.id : ".";
  variant.ref = record->n_allele > 0 ? record->d.allele[0] : "";
  variant.alts.clear();
  for (int i = 1; i < record->n_allele; ++i) {
    const std::string alt = record->d.allele[i];
    if (alt != ".") variant.alts.push_back(alt);
  }
  return true;
}

}  // namespace genolm::io
