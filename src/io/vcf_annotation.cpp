#include "io/vcf_annotation.h"

#include <htslib/hts.h>
#include <htslib/hts_log.h>
#include <htslib/vcf.h>

#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>

#include "genolm/atomic_file.h"
#include "genolm/error.h"

namespace genolm::io {
namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// htslib handles, closed however the copy ends.
struct Handles {
  htsFile* in = nullptr;
  htsFile* out = nullptr;
  bcf_hdr_t* in_header = nullptr;
  bcf_hdr_t* out_header = nullptr;
  bcf1_t* record = nullptr;
  ~Handles() {
    if (record != nullptr) bcf_destroy(record);
    if (out_header != nullptr) bcf_hdr_destroy(out_header);
    if (in_header != nullptr) bcf_hdr_destroy(in_header);
    if (out != nullptr) hts_close(out);
    if (in != nullptr) hts_close(in);
  }
};

}  // namespace

bool names_vcf(const std::filesystem::path& out) {
  const std::string name = out.string();
  return ends_with(name, ".vcf") || ends_with(name, ".vcf.gz") || ends_with(name, ".bcf");
}

std::string info_id(const std::string& column) {
  std::string id = "GENOLM_";
  for (const char c : column)
    id += std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'
              ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
              : '_';
  return id;
}

void write_annotated_vcf(const std::filesystem::path& vcf, const std::filesystem::path& scores,
                         const std::filesystem::path& out, const std::vector<InfoField>& fields) {
  hts_set_log_level(HTS_LOG_OFF);
  Handles h;
  h.in = hts_open(vcf.c_str(), "r");
  h.in_header = h.in != nullptr ? bcf_hdr_read(h.in) : nullptr;
  if (h.in_header == nullptr) throw Error("cannot read the VCF header of " + vcf.string());
  // htslib adds the contigs and tags a VCF's header lacks while it reads the records, so the
  // header is complete only after a first pass; the second reads the records against it.
  h.record = bcf_init();
  while (bcf_read(h.in, h.in_header, h.record) == 0) {
  }
  hts_close(h.in);
  h.in = hts_open(vcf.c_str(), "r");
  bcf_hdr_t* again = h.in != nullptr ? bcf_hdr_read(h.in) : nullptr;
  if (again == nullptr) throw Error("cannot read " + vcf.string() + " a second time");
  bcf_hdr_destroy(again);
  h.out_header = bcf_hdr_dup(h.in_header);
  for (const auto& field : fields) {
    const std::string line = "##INFO=<ID=" + field.id + ",Number=A,Type=Float,Description=\"" +
                             field.description + "\">";
    if (bcf_hdr_append(h.out_header, line.c_str()) != 0)
      throw Error("cannot add the INFO field " + field.id + " to the header of " + out.string());
  }
  if (bcf_hdr_sync(h.out_header) != 0) throw Error("cannot build the header of " + out.string());
  const std::string name = out.string();
  const char* mode = ends_with(name, ".bcf") ? "wb" : ends_with(name, ".gz") ? "wz" : "w";
  const std::filesystem::path temp = name + ".tmp";
  h.out = hts_open(temp.c_str(), mode);
  if (h.out == nullptr || bcf_hdr_write(h.out, h.out_header) != 0)
    throw Error("cannot write " + temp.string());

  std::ifstream table(scores);
  std::string line;
  std::getline(table, line);  // the header
  std::uint64_t records = 0;
  std::vector<std::vector<float>> values(fields.size());
  try {
    while (bcf_read(h.in, h.in_header, h.record) == 0) {
      ++records;
      bcf_unpack(h.record, BCF_UN_ALL);
      const int alts = h.record->n_allele - 1;
      for (auto& field_values : values)
        field_values.assign(static_cast<std::size_t>(std::max(alts, 0)), 0.0f);
      bool any = false;
      for (int a = 0; a < alts; ++a) {
        if (std::string(h.record->d.allele[a + 1]) == ".") {
          for (auto& field_values : values)
            bcf_float_set_missing(field_values[static_cast<std::size_t>(a)]);
          continue;
        }
        if (!std::getline(table, line)) {
          throw Error(scores.string() + " ends before " + vcf.string() + "'s record " +
                      std::to_string(records));
        }
        // The values are the last columns of the row.
        std::vector<std::string> columns;
        std::istringstream cells(line);
        for (std::string cell; std::getline(cells, cell, '\t');)
          columns.push_back(cell);
        if (columns.size() < fields.size())
          throw Error(scores.string() + ": a row has fewer columns than scores");
        for (std::size_t f = 0; f < fields.size(); ++f) {
          const std::string& text = columns[columns.size() - fields.size() + f];
          float& value = values[f][static_cast<std::size_t>(a)];
          if (text == "nan") {
            bcf_float_set_missing(value);
          } else {
            value = std::stof(text);
            any = true;
          }
        }
      }
      bcf_translate(h.out_header, h.in_header, h.record);
      if (any) {
        for (std::size_t f = 0; f < fields.size(); ++f) {
          if (bcf_update_info_float(h.out_header, h.record, fields[f].id.c_str(), values[f].data(),
                                    alts) != 0) {
            throw Error("cannot add " + fields[f].id + " to record " + std::to_string(records) +
                        " of " + out.string());
          }
        }
      }
      if (bcf_write(h.out, h.out_header, h.record) != 0)
        throw Error("cannot write record " + std::to_string(records) + " to " + temp.string());
    }
    if (std::getline(table, line) && !line.empty())
      throw Error(scores.string() + " has more rows than " + vcf.string() + " has alleles");
  } catch (...) {
    hts_close(h.out);
    h.out = nullptr;
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw;
  }
  const int closed = hts_close(h.out);
  h.out = nullptr;
  if (closed != 0) throw Error("cannot write " + temp.string() + " (is the disk full?)");
  std::error_code error;
  std::filesystem::rename(temp, out, error);
  if (error) throw Error("cannot rename " + temp.string() + " to " + name + ": " + error.message());
  sync_folder(out.has_parent_path() ? out.parent_path() : std::filesystem::path("."));
}

}  // namespace genolm::io
