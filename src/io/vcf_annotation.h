#pragma once
// A copy of a VCF or BCF file with scores added to its records as INFO fields (one value per
// alternative allele, Number=A), written by htslib: plain VCF, bgzipped VCF (.vcf.gz) or BCF
// (.bcf), by the output's name. Everything else in the input (samples, other INFO fields) is
// kept as it was.

#include <filesystem>
#include <string>
#include <vector>

namespace genolm::io {

struct InfoField {
  std::string id;           // e.g. GENOLM_LLR
  std::string description;  // for the ##INFO header line
};

// Reads `vcf` and `scores` side by side: `scores` is a TSV with a header line and then one row
// per alternative allele of `vcf`, in its order (alleles written "." skipped), whose last
// `fields.size()` columns are the values ("nan" for none, written as missing). Writes `out` whole
// or not at all. Throws genolm::Error naming the files when they do not match.
void write_annotated_vcf(const std::filesystem::path& vcf, const std::filesystem::path& scores,
                         const std::filesystem::path& out, const std::vector<InfoField>& fields);

// Whether `out` names a VCF or BCF file (.vcf, .vcf.gz, .bcf) rather than a table.
bool names_vcf(const std::filesystem::path& out);

// An INFO ID made of a score column: GENOLM_ and the column upper-cased, characters VCF does not
// allow in IDs replaced by '_'.
std::string info_id(const std::string& column);

}  // namespace genolm::io
