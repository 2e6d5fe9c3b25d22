#include "variants/variant_window.h"

#include <algorithm>
#include <cctype>

#include "genolm/error.h"

namespace genolm::variants {
namespace {

bool same_bases(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

bool is_sequence(const std::string& allele) {
  return !allele.empty() && std::all_of(allele.begin(), allele.end(), [](char c) {
    return std::isalpha(static_cast<unsigned char>(c)) != 0;
  });
}

}  // namespace

AlleleKind allele_kind(const std::string& ref, const std::string& alt) {
  if (!is_sequence(ref) || !is_sequence(alt)) return AlleleKind::symbolic;
  return ref.size() == alt.size() ? AlleleKind::substitution : AlleleKind::indel;
}

std::string describe_variant(const std::string& file, const io::VcfVariant& variant,
                             const std::string& alt) {
  return file + " record " + std::to_string(variant.record) + " (" + variant.chrom + ":" +
         std::to_string(variant.position) + " " + variant.ref + ">" + alt + ")";
}

VariantWindow variant_window(const io::ReferenceGenome& genome, const io::VcfVariant& variant,
                             const std::string& alt, std::int64_t width, bool* mismatch) {
  const auto where = [&] { return describe_variant("", variant, alt).substr(1); };
  if (!genome.has_contig(variant.chrom)) {
    throw Error("variant " + where() + ": the reference " + genome.path().string() +
                " has no contig '" + variant.chrom + "'");
  }
  const std::int64_t length = genome.contig_length(variant.chrom);
  const std::int64_t begin = variant.position - 1;
  const auto ref_size = static_cast<std::int64_t>(variant.ref.size());
  if (begin < 0 || begin + ref_size > length) {
    throw Error("variant " + where() + " lies past the end of contig '" + variant.chrom + "' (" +
                std::to_string(length) + " bases in " + genome.path().string() + ")");
  }
  const std::string bases = genome.fetch(variant.chrom, begin, begin + ref_size);
  if (!same_bases(bases, variant.ref)) {
    if (mismatch != nullptr) {
      *mismatch = true;
      return {};
    }
    throw Error("variant " + where() + ": REF '" + variant.ref + "' is not the reference's '" +
                bases + "' there (" + genome.path().string() +
                "; another assembly?). --skip-mismatches counts such variants instead");
  }
  if (mismatch != nullptr) *mismatch = false;
  // Centred on the variant, then clipped: near a contig's end the window is shorter, never
  // shifted, so a variant's context does not depend on how close the end is.
  const std::int64_t span = std::max(width, ref_size);
  const std::int64_t centred = begin - (span - ref_size) / 2;
  const std::int64_t start = std::max<std::int64_t>(0, centred);
  const std::int64_t end = std::min(length, centred + span);
  VariantWindow window;
  window.start = start;
  window.reference = genome.fetch(variant.chrom, start, end);
  window.alternative = window.reference;
  window.alternative.replace(static_cast<std::size_t>(begin - start), variant.ref.size(), alt);
  return window;
}

}  // namespace genolm::variants
