// genolm mutagenesis: every single substitution of each input sequence (or of a region of it)
// scored by a run's model: zero-shot log-likelihood ratios from a language model, or changes of a
// fine-tuned model's outputs. Writes, into --out: mutations.tsv (one row per substitution), one
// [positions x letters] .npy per sequence and score, sequences.tsv (which file is which) and
// index.html (a heatmap per sequence and score).
#include <ATen/Parallel.h>

#include <cctype>
#include <limits>
#include <map>
#include <memory>

#include "cli/commands.h"
#include "cli/model_input.h"
#include "genolm/atomic_file.h"
#include "genolm/error.h"
#include "io/labelled.h"
#include "io/npy_writer.h"
#include "io/streamed_file.h"
#include "io/tsv_field.h"
#include "report/mutagenesis_page.h"
#include "util/log.h"
#include "variants/mutant_scorer.h"
#include "variants/saturation.h"

namespace genolm::cli {
namespace {

constexpr std::size_t kMutantsPerCall = 4096;  // mutants handed to the model at once
constexpr std::size_t kMapsOnPage = 100;       // heatmaps drawn in index.html

struct MutagenesisFlags {
  ModelInputOptions input;
  std::string out = "mutagenesis";
  std::string region;
  StrandFlags strands;
};

// A file name for a record id: letters, digits, '.', '_' and '-' kept, the rest '_', and a
// number added when two ids would share a name.
std::string file_stem(const std::string& id, std::map<std::string, int>& used) {
  std::string stem;
  for (const char c : id)
    stem +=
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ? c : '_';
  if (stem.empty() || stem[0] == '.') stem = "_" + stem;
  const int seen = used[stem]++;
  return seen == 0 ? stem : stem + "_" + std::to_string(seen + 1);
}

int run_mutagenesis(const MutagenesisFlags& flags, const GlobalOptions& globals) {
  at::set_num_threads(globals.resolved_threads());
  auto folder = flags.input.load_folder(flags.input.model());
  const auto spec = variants::parse_region(flags.region);
  const auto columns_read = flags.input.columns(folder, false);
  if (columns_read.sequence_columns.size() != 1) {
    throw Error(flags.input.model() + " reads " +
                std::to_string(columns_read.sequence_columns.size()) +
                " sequence columns: mutagenesis scans one sequence; name it with "
                "--sequence-columns (a paired model is not scanned yet)");
  }
  const auto scorer = variants::make_mutant_scorer(
      folder, {.batch_size = flags.input.batch_size, .rc_average = flags.strands.average(folder)});
  const std::string letters = variants::substitution_letters(folder.tokenizer->alphabet());
  const auto& score_columns = scorer->columns();

  const std::filesystem::path out_dir = flags.out;
  std::filesystem::create_directories(out_dir);
  io::StreamedFile table(out_dir / "mutations.tsv");
  std::string header = "id\tposition\tref\talt";
  for (const auto& column : score_columns)
    header += "\t" + column;
  table.write(header + "\n");
  std::string index = "id\tfile\tlength\tfirst\tlast\tletters\n";
  std::map<std::string, int> stems;
  std::vector<report::MutagenesisMap> maps;
  std::size_t maps_left_out = 0, records = 0, substitutions = 0;

  io::LabelledReader reader(flags.input.input, columns_read);
  io::LabelledExample example;
  while (reader.next(example)) {
    const std::string& sequence = example.sequences.front();
    const auto region = variants::clipped(spec, sequence.size(), example.id);
    const auto cells = variants::single_substitutions(sequence, region, letters);
    // [positions x letters] per score; the reference letters stay 0, what is not scored NaN.
    std::vector<std::vector<double>> grids(
        score_columns.size(), std::vector<double>(region.size() * letters.size(),
                                                  std::numeric_limits<double>::quiet_NaN()));
    for (std::size_t p = region.first; p < region.end; ++p)
      for (std::size_t l = 0; l < letters.size(); ++l)
        if (variants::is_reference_letter(sequence[p], letters[l], letters))
          for (auto& grid : grids)
            grid[(p - region.first) * letters.size() + l] = 0;
    std::string rows;
    for (std::size_t start = 0; start < cells.size(); start += kMutantsPerCall) {
      const std::size_t end = std::min(cells.size(), start + kMutantsPerCall);
      variants::ReferenceMutants set{.record = example.id, .reference = sequence, .mutants = {}};
      for (std::size_t c = start; c < end; ++c)
        set.mutants.push_back(variants::mutated(sequence, cells[c], letters));
      const auto scores = scorer->score({set}).front();
      for (std::size_t c = start; c < end; ++c) {
        const auto& cell = cells[c];
        rows += io::tsv_field(example.id) + "\t" + std::to_string(cell.position + 1) + "\t" +
                cell.reference + "\t" + letters[cell.letter];
        for (std::size_t k = 0; k < score_columns.size(); ++k) {
          const double value = scores[c - start][k];
          rows.append("\t").append(
              io::tsv_number(value));  // appended: GCC 12 warns on "\t" + string
          grids[k][(cell.position - region.first) * letters.size() + cell.letter] = value;
        }
        rows += "\n";
      }
    }
    table.write(rows);
    const std::string stem = file_stem(example.id, stems);
    for (std::size_t k = 0; k < score_columns.size(); ++k) {
      std::vector<float> values(grids[k].begin(), grids[k].end());
      io::write_npy(out_dir / (stem + "." + score_columns[k] + ".npy"), values, region.size(),
                    letters.size());
      if (maps.size() < kMapsOnPage) {
        maps.push_back({.id = example.id,
                        .reference = sequence.substr(region.first, region.size()),
                        .first_position = region.first + 1,
                        .score = score_columns[k],
                        .values = std::move(grids[k])});
      } else {
        ++maps_left_out;
      }
    }
    index += io::tsv_field(example.id) + "\t" + io::tsv_field(stem) + "\t" +
             std::to_string(sequence.size()) + "\t" + std::to_string(region.first + 1) + "\t" +
             std::to_string(region.end) + "\t" + letters + "\n";
    ++records;
    substitutions += cells.size();
  }
  if (records == 0) throw Error(flags.input.input + ": holds no records to scan");
  table.finish();
  write_file_atomically(out_dir / "sequences.tsv", index);
  write_file_atomically(
      out_dir / "index.html",
      report::mutagenesis_page(flags.input.model(), letters, maps, maps_left_out));
  log("mutagenesis")
      ->info(
          "{} substitutions of {} records scored ({}) -> {}/mutations.tsv, .npy per record "
          "and score, index.html",
          substitutions, records, fmt::join(score_columns, ", "), out_dir.string());
  return 0;
}

}  // namespace

void register_mutagenesis(CLI::App& app, Action& action, const GlobalOptions& globals) {
  auto flags = std::make_shared<MutagenesisFlags>();
  auto* command = app.add_subcommand(
      "mutagenesis",
      "score every single substitution of each sequence (in-silico saturation mutagenesis)");
  flags->input.add_to(*command);
  command->add_option("--out", flags->out, "output folder")->capture_default_str();
  command->add_option("--region", flags->region,
                      "scan only positions START-END of each sequence (1-based, inclusive; e.g. "
                      "a CDR)");
  flags->strands.add_to(*command);
  command->callback([&action, &globals, flags] {
    action = [&globals, flags] { return run_mutagenesis(*flags, globals); };
  });
}

}  // namespace genolm::cli
