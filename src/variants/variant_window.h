#pragma once
// The sequences a variant is scored on: a window of the reference genome around it, and the same
// window with the alternative allele in place. Substitutions of any length (SNVs, MNVs) are scored;
// insertions, deletions and symbolic alleles are not, and say so.

#include <cstdint>
#include <string>

#include "io/reference_genome.h"
#include "io/vcf_reader.h"

namespace genolm::variants {

enum class AlleleKind {
  substitution,  // REF and ALT of one length
  indel,         // lengths differ: not scored (the window's token count would change)
  symbolic,      // <DEL>, *, breakends: not sequence
};
AlleleKind allele_kind(const std::string& ref, const std::string& alt);

struct VariantWindow {
  std::string reference;    // bases [start, start + reference.size()) of the contig
  std::string alternative;  // the same with ALT in place of REF
  std::int64_t start = 0;   // 0-based
};

// A window of `width` bases centred on the variant and clipped at the contig's ends (a variant
// near an end gets a shorter window). Throws genolm::Error naming the variant (file, record,
// chrom:pos ref>alt) for an unknown contig, a position past the contig's end, or a REF that is not
// the reference's bases there (compared without case); `mismatch` is set instead of the last
// throw when it is given.
VariantWindow variant_window(const io::ReferenceGenome& genome, const io::VcfVariant& variant,
                             const std::string& alt, std::int64_t width, bool* mismatch = nullptr);

// "file record 12 (chr1:12345 A>G)", for messages.
std::string describe_variant(const std::string& file, const io::VcfVariant& variant,
                             const std::string& alt);

}  // namespace genolm::variants
