// genolm variants: variants scored by a run's model, DeepSEA's way for a fine-tuned model (the
// change of its outputs, alt minus ref) and zero-shot for a language model (the log-likelihood
// ratio of alt over ref over the tokens the variant touches). Two inputs:
//   --vcf FILE --reference FASTA: VCF/BCF records against an indexed genome (htslib), each scored
//     on a window of --window bases around it;
//   --mutants TABLE --wildtype FASTA: protein mutants in deep mutational scanning's notation
//     (H24C, H24C:A30G), each scored on the whole mutant protein.
// Rows come out in input order, one per alternative allele; variants that cannot be scored
// (indels, symbolic alleles, mismatches under --skip-mismatches) keep their row with "nan"
// scores and are counted in the log.
#include <ATen/Parallel.h>

#include <algorithm>
#include <fstream>
#include <memory>

#include "cli/commands.h"
#include "cli/data_parallel.h"
#include "cli/model_input.h"
#include "genolm/error.h"
#include "io/fastx_reader.h"
#include "io/reference_genome.h"
#include "io/streamed_file.h"
#include "io/table_reader.h"
#include "io/tsv_field.h"
#include "io/vcf_annotation.h"
#include "io/vcf_reader.h"
#include "util/log.h"
#include "util/progress_log.h"
#include "variants/mutant_scorer.h"
#include "variants/protein_mutants.h"
#include "variants/variant_window.h"

namespace genolm::cli {
namespace {

struct VariantsFlags {
  std::string model;
  std::string vcf, reference;
  std::string mutants, wildtype, mutant_column = "mutant";
  long first_position = 1;
  std::string out = "variants.tsv";
  std::int64_t window = 200;
  std::size_t block_rows = 1024;
  bool skip_mismatches = false;
  bool embedding_distance = false;
  StrandFlags strands;
  std::int64_t batch_size = 128;
  DeviceOptions hardware;
};

// Rows waiting for their scores: the text before the scores, and the set and mutant they were
// scored as (set -1: not scored, "nan").
struct PendingRow {
  std::string prefix;
  long set = -1;
  std::size_t mutant = 0;
};

// The output rows, in input order, scored a block at a time. In a job of several ranks (genolm
// launch, torchrun, srun) rank r takes the blocks b with b % ranks == r and writes them to a part
// file of its own; when all are done, rank 0 interleaves the parts back into input order. Every
// rank reads the whole input, so all agree on where blocks start.
class RowWriter {
 public:
  RowWriter(const std::string& out, std::string header, variants::MutantScorer& scorer,
            DataParallel& job, std::size_t block_rows)
      : out_(out),
        part_(job.world.distributed() ? out + ".part-" + std::to_string(job.world.rank) : out),
        scorer_(scorer),
        job_(job),
        block_rows_(block_rows) {
    for (const auto& column : scorer.columns())
      header += "\t" + column;
    header_ = header + "\n";
    if (!job.world.distributed()) part_.write(header_);
  }

  // Whether the next row is this rank's to score; skip() passes over one that is not.
  bool mine() const {
    return static_cast<int>((rows_seen_ / block_rows_) %
                            static_cast<std::size_t>(job_.world.size)) == job_.world.rank;
  }
  void skip() { ++rows_seen_; }

  // A row scored as `mutant` of `reference`. A row whose reference is the previous row's (the
  // ALTs of one site, split multi-allelic records, a saturation screen's three bases, the mutants
  // of one wild type) joins its set, so the scorer reads that reference once for all of them: a
  // language model reads its prefix once, a fine-tuned model predicts it once.
  void add_scored(std::string prefix, std::string record, std::string reference,
                  std::string mutant) {
    if (sets_.empty() || sets_.back().reference != reference) {
      sets_.push_back(
          {.record = std::move(record), .reference = std::move(reference), .mutants = {}});
    }
    auto& set = sets_.back();
    rows_.push_back({std::move(prefix), static_cast<long>(sets_.size() - 1), set.mutants.size()});
    set.mutants.push_back(std::move(mutant));
    ++scored_;
    row_added();
  }
  // A row that keeps its place with "nan" scores.
  void add_unscored(std::string prefix) {
    rows_.push_back({std::move(prefix)});
    row_added();
  }

  // Writes the output; returns the rows scored by all ranks together.
  std::size_t finish() {
    flush();
    part_.finish();
    const auto scored =
        static_cast<std::size_t>(job_.comm->all_reduce_sum(static_cast<double>(scored_)));
    if (!job_.world.distributed()) return scored;
    job_.comm->barrier();  // every part is whole
    if (job_.world.rank == 0) merge_parts();
    job_.comm->barrier();  // the parts are no longer needed
    return scored;
  }

 private:
  void row_added() {
    if (++rows_seen_ % block_rows_ == 0) flush();
  }

  void flush() {
    if (rows_.empty()) return;
    std::vector<std::vector<std::vector<double>>> scores;
    if (!sets_.empty()) scores = scorer_.score(sets_);
    std::string text;
    const std::size_t columns = scorer_.columns().size();
    for (const auto& row : rows_) {
      text += row.prefix;
      for (std::size_t c = 0; c < columns; ++c)
        text.append("\t").append(row.set < 0 ? std::string("nan")
                                             : io::tsv_number(scores[row.set][row.mutant][c]));
      text += "\n";
    }
    part_.write(text);
    rows_.clear();
    sets_.clear();
  }

  // Block b of the output is the next block of part b % ranks.
  void merge_parts() {
    io::StreamedFile merged(out_);
    merged.write(header_);
    std::vector<std::ifstream> parts;
    for (int rank = 0; rank < job_.world.size; ++rank)
      parts.emplace_back(out_ + ".part-" + std::to_string(rank));
    std::string line, text;
    for (std::size_t block = 0;; ++block) {
      auto& part = parts[block % parts.size()];
      std::size_t read = 0;
      for (; read < block_rows_ && std::getline(part, line); ++read)
        text += line + "\n";
      merged.write(text);
      text.clear();
      if (read < block_rows_) break;  // the last block
    }
    merged.finish();
    for (int rank = 0; rank < job_.world.size; ++rank)
      std::filesystem::remove(out_ + ".part-" + std::to_string(rank));
  }

  std::string out_;
  io::StreamedFile part_;
  variants::MutantScorer& scorer_;
  DataParallel& job_;
  std::size_t block_rows_;
  std::string header_;
  std::vector<PendingRow> rows_;
  std::vector<variants::ReferenceMutants> sets_;
  std::size_t rows_seen_ = 0, scored_ = 0;
};

void score_vcf(const VariantsFlags& flags, variants::MutantScorer& scorer, DataParallel& job) {
  if (flags.window < 1) throw Error("--window must be at least 1 base");
  const io::ReferenceGenome genome(flags.reference);
  io::VcfReader reader(flags.vcf);
  // A VCF output is the input with the scores as INFO fields: the table is written first, beside
  // it, then read back record by record.
  const bool vcf_out = io::names_vcf(flags.out);
  const std::string table = vcf_out ? flags.out + ".scores.tsv" : flags.out;
  RowWriter writer(table, "id\tchrom\tpos\tref\talt", scorer, job, flags.block_rows);
  std::size_t indels = 0, symbolic = 0, mismatches = 0, rows = 0;
  io::VcfVariant variant;
  // htslib does not say how far into a VCF it is: a count and a rate.
  ProgressLog progress("variants", "variants", "");
  while (reader.next(variant)) {
    progress.update(rows, std::nan(""));
    for (const auto& alt : variant.alts) {
      ++rows;
      if (!writer.mine()) {
        writer.skip();
        continue;
      }
      const std::string id = variant.id != "."
                                 ? variant.id
                                 : variant.chrom + ":" + std::to_string(variant.position) + ":" +
                                       variant.ref + ">" + alt;
      const std::string prefix = io::tsv_field(id) + "\t" + io::tsv_field(variant.chrom) + "\t" +
                                 std::to_string(variant.position) + "\t" +
                                 io::tsv_field(variant.ref) + "\t" + io::tsv_field(alt);
      const auto kind = variants::allele_kind(variant.ref, alt);
      if (kind != variants::AlleleKind::substitution) {
        ++(kind == variants::AlleleKind::indel ? indels : symbolic);
        writer.add_unscored(prefix);
        continue;
      }
      bool mismatch = false;
      auto window = variants::variant_window(genome, variant, alt, flags.window,
                                             flags.skip_mismatches ? &mismatch : nullptr);
      if (mismatch) {
        ++mismatches;
        writer.add_unscored(prefix);
        continue;
      }
      writer.add_scored(prefix, variants::describe_variant(flags.vcf, variant, alt),
                        std::move(window.reference), std::move(window.alternative));
    }
  }
  const std::size_t scored = writer.finish();
  const auto total = [&](std::size_t count) {
    return static_cast<std::size_t>(job.comm->all_reduce_sum(static_cast<double>(count)));
  };
  indels = total(indels);
  symbolic = total(symbolic);
  mismatches = total(mismatches);
  if (vcf_out && job.writer()) {
    std::vector<io::InfoField> fields;
    for (const auto& column : scorer.columns()) {
      std::string model = flags.model;
      std::replace(model.begin(), model.end(), '"', '\'');
      fields.push_back({io::info_id(column), "genolm " + column + " of the alternative allele (" +
                                                 model + ", window " +
                                                 std::to_string(flags.window) + ")"});
    }
    io::write_annotated_vcf(flags.vcf, table, flags.out, fields);
    std::filesystem::remove(table);
  }
  log("variants")
      ->info("{} of {} alleles scored on windows of up to {} bases{} -> {}", scored, rows,
             flags.window,
             job.world.distributed() ? " by " + std::to_string(job.world.size) + " ranks" : "",
             flags.out);
  if (indels + symbolic + mismatches > 0 && job.writer()) {
    log("variants")
        ->warn(
            "not scored (rows kept, scores nan): {} insertions or deletions, {} "
            "symbolic alleles, {} REF mismatches",
            indels, symbolic, mismatches);
  }
}

std::string read_wildtype(const std::string& path) {
  io::FastxReader reader(path, {.alphabet = io::Alphabet::protein});
  io::SequenceRecord record;
  if (!io::read_record(reader, record) || record.sequence.empty()) {
    throw Error("wild type " + path + ": holds no sequence (expected one FASTA record)");
  }
  return record.sequence;
}

void score_mutants(const VariantsFlags& flags, variants::MutantScorer& scorer, DataParallel& job) {
  const std::string wildtype = read_wildtype(flags.wildtype);
  io::TableReader table(flags.mutants);
  const std::size_t column = table.column(flags.mutant_column);
  RowWriter writer(flags.out, "mutant", scorer, job, flags.block_rows);
  std::vector<std::string> row;
  std::size_t rows = 0;
  while (table.next(row)) {
    const std::string& text = row[column];
    ++rows;
    std::vector<variants::ResidueChange> changes;
    try {
      changes = variants::parse_mutant(text, wildtype, flags.first_position);
    } catch (const Error& e) {
      throw Error(flags.mutants + " line " + std::to_string(table.line()) + ": " + e.what());
    }
    if (!writer.mine()) {
      writer.skip();
      continue;
    }
    writer.add_scored(io::tsv_field(text), text, wildtype,
                      variants::apply_changes(wildtype, changes));
  }
  writer.finish();
  if (rows == 0) throw Error(flags.mutants + ": holds no mutants");
  log("variants")->info("{} mutants of {} scored -> {}", rows, flags.wildtype, flags.out);
}

int run_variants(const VariantsFlags& flags, const GlobalOptions& globals) {
  at::set_num_threads(globals.resolved_threads());
  const bool vcf = !flags.vcf.empty() || !flags.reference.empty();
  const bool mutants = !flags.mutants.empty() || !flags.wildtype.empty();
  if (vcf == mutants || (vcf && (flags.vcf.empty() || flags.reference.empty())) ||
      (mutants && (flags.mutants.empty() || flags.wildtype.empty()))) {
    throw Error(
        "give either --vcf FILE with --reference FASTA, or --mutants TABLE with "
        "--wildtype FASTA");
  }
  auto folder = flags.hardware.load_folder(flags.model);
  if (vcf && !folder.tokenizer->reverse_complement_applies()) {
    throw Error(flags.model +
                " reads proteins: score VCF variants with a DNA model, or give "
                "protein mutants with --mutants and --wildtype");
  }
  const auto scorer =
      variants::make_mutant_scorer(folder, {.batch_size = flags.batch_size,
                                            .rc_average = flags.strands.average(folder),
                                            .embedding_distance = flags.embedding_distance});
  // Under genolm launch, torchrun or srun the ranks share the variants (RowWriter).
  auto job = join_data_parallel("auto", std::chrono::minutes(30), globals);
  if (vcf)
    score_vcf(flags, *scorer, job);
  else
    score_mutants(flags, *scorer, job);
  return 0;
}

}  // namespace

void register_variants(CLI::App& app, Action& action, const GlobalOptions& globals) {
  auto flags = std::make_shared<VariantsFlags>();
  auto* command = app.add_subcommand(
      "variants",
      "score variants (VCF against a reference, or protein mutants against a wild type) with a "
      "language model or a fine-tuned model");
  command
      ->add_option("--model", flags->model,
                   "a run folder of 'genolm pretrain' or 'genolm finetune'")
      ->required();
  command->add_option("--vcf", flags->vcf, "variants: VCF or BCF, plain or bgzipped");
  command->add_option("--reference", flags->reference,
                      "the genome the VCF refers to: FASTA, plain or bgzip, indexed (.fai) or in "
                      "a writable folder");
  command->add_option("--mutants", flags->mutants,
                      "protein mutants: a CSV/TSV table with a column of changes such as H24C or "
                      "H24C:A30G");
  command->add_option("--wildtype", flags->wildtype, "the wild-type protein: one FASTA record");
  command->add_option("--mutant-column", flags->mutant_column, "the --mutants column to read")
      ->capture_default_str();
  command
      ->add_option("--first-position", flags->first_position,
                   "the number of the wild type's first residue in the mutants' notation")
      ->capture_default_str();
  command
      ->add_option("--out", flags->out,
                   "tab-separated scores, one row per allele or mutant; a name ending .vcf, "
                   ".vcf.gz or .bcf writes the input VCF with the scores as INFO fields instead")
      ->capture_default_str();
  command
      ->add_option("--window", flags->window,
                   "bases around each VCF variant that the model reads (clipped at contig ends)")
      ->capture_default_str();
  command->add_flag("--skip-mismatches", flags->skip_mismatches,
                    "a REF that is not the reference's bases leaves a row of nan and is counted, "
                    "instead of an error");
  command->add_flag("--embedding-distance", flags->embedding_distance,
                    "add embedding_distance: how far the alternative moves the window's mean "
                    "encoder state (Euclidean)");
  flags->strands.add_to(*command);
  command
      ->add_option("--block-size", flags->block_rows,
                   "rows scored at a time; under genolm launch, torchrun or srun each rank takes "
                   "every N-th block")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command->add_option("--batch-size", flags->batch_size, "sequences per batch")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  flags->hardware.add_to(*command);
  command->callback([&action, &globals, flags] {
    action = [&globals, flags] { return run_variants(*flags, globals); };
  });
}

}  // namespace genolm::cli
