// genolm scan: a fine-tuned classifier or regressor slid along a genome (or the regions of a BED
// file): every --step bases a window of --window bases is predicted, and its prediction is written
// for the window's central --step bases, one bedGraph track per class or target. The genome is
// read by position through its index (htslib), a block of windows at a time, so memory stays
// bounded whatever its size.
#include <ATen/Parallel.h>

#include <memory>

#include "cli/commands.h"
#include "cli/model_input.h"
#include "genolm/error.h"
#include "io/bed_reader.h"
#include "io/reference_genome.h"
#include "io/streamed_file.h"
#include "io/tsv_field.h"
#include "train/inference.h"
#include "util/log.h"

namespace genolm::cli {
namespace {

constexpr std::int64_t kWindowsPerBlock = 2048;  // windows predicted at once

struct ScanFlags {
  std::string model;
  std::string reference;
  std::string regions;
  std::int64_t window = 0;
  std::int64_t step = 0;
  std::string out = "scan.bedGraph";
  StrandFlags strands;
  std::int64_t batch_size = 128;
  DeviceOptions hardware;
};

// The tracks: a class's probability, a target's value or a label's probability.
std::vector<std::string> track_names(const train::ModelFolder& folder) {
  const auto& scheme = folder.scheme();
  std::vector<std::string> names;
  if (scheme.kind == data::TaskKind::regression) return scheme.targets;
  for (const auto& name :
       scheme.kind == data::TaskKind::classification ? scheme.classes : scheme.targets)
    names.push_back("prob_" + name);
  return names;
}

// x.bedGraph alone for one track, x.<track>.bedGraph for several.
std::string track_file(const std::string& out, const std::string& track, bool several) {
  if (!several) return out;
  std::string stem = out;
  const std::string suffix = ".bedGraph";
  if (stem.size() > suffix.size() &&
      stem.compare(stem.size() - suffix.size(), suffix.size(), suffix) == 0)
    stem.resize(stem.size() - suffix.size());
  return stem + "." + track + suffix;
}

int run_scan(const ScanFlags& flags, const GlobalOptions& globals) {
  at::set_num_threads(globals.resolved_threads());
  if (flags.window < 1 || flags.step < 1 || flags.step > flags.window) {
    throw Error("--window and --step must be at least 1, with --step <= --window (got " +
                std::to_string(flags.window) + " and " + std::to_string(flags.step) + ")");
  }
  auto folder = load_fine_tuned(flags.model, flags.hardware, "scan");
  if (folder.columns.sequence_columns.size() != 1) {
    throw Error(flags.model + " reads paired chains: scan slides a model of one sequence");
  }
  if (!folder.tokenizer->reverse_complement_applies()) {
    throw Error(flags.model + " reads proteins: scan slides a DNA model along a genome");
  }
  const bool rc_average = flags.strands.average(folder);
  const io::ReferenceGenome genome(flags.reference);
  std::vector<io::BedRegion> regions;
  if (flags.regions.empty()) {
    for (const auto& contig : genome.contigs())
      regions.push_back({contig, 0, genome.contig_length(contig), 0});
  } else {
    regions = io::read_bed(flags.regions);
    for (const auto& region : regions) {
      if (!genome.has_contig(region.chrom) || region.end > genome.contig_length(region.chrom)) {
        throw Error(flags.regions + " line " + std::to_string(region.line) + ": " + region.chrom +
                    ":" + std::to_string(region.start) + "-" + std::to_string(region.end) +
                    " is not within the reference " + flags.reference);
      }
    }
  }

  const auto names = track_names(folder);
  std::vector<std::unique_ptr<io::StreamedFile>> tracks;
  for (const auto& name : names) {
    tracks.push_back(
        std::make_unique<io::StreamedFile>(track_file(flags.out, name, names.size() > 1)));
    tracks.back()->write("track type=bedGraph name=\"" + name + "\" description=\"genolm scan of " +
                         flags.model + ", window " + std::to_string(flags.window) + ", step " +
                         std::to_string(flags.step) + "\"\n");
  }
  std::size_t windows = 0, too_short = 0;
  // Each window's value covers its central `step` bases: adjacent windows tile the track.
  const std::int64_t lead = (flags.window - flags.step) / 2;
  for (const auto& region : regions) {
    if (region.end - region.start < flags.window) {
      ++too_short;
      continue;
    }
    const std::int64_t last_start = region.end - flags.window;
    for (std::int64_t block = region.start; block <= last_start;
         block += kWindowsPerBlock * flags.step) {
      const std::int64_t block_end =
          std::min(last_start, block + (kWindowsPerBlock - 1) * flags.step);
      const std::string bases = genome.fetch(region.chrom, block, block_end + flags.window);
      std::vector<io::LabelledExample> examples;
      for (std::int64_t start = block; start <= block_end; start += flags.step) {
        examples.push_back({.id = region.chrom,
                            .sequences = {bases.substr(static_cast<std::size_t>(start - block),
                                                       static_cast<std::size_t>(flags.window))},
                            .labels = {},
                            .line = 0});
      }
      const auto encoded = data::encode_examples(
          examples, *folder.tokenizer, folder.scheme(), flags.reference,
          {.with_labels = false, .reverse_complement = rc_average, .backward = folder.backward()});
      const auto predictions = predict_with(folder, encoded, flags.batch_size, rc_average);
      std::vector<std::string> text(tracks.size());
      std::int64_t start = block;
      for (std::size_t w = 0; w < examples.size(); ++w, start += flags.step) {
        const std::string interval = region.chrom + "\t" + std::to_string(start + lead) + "\t" +
                                     std::to_string(start + lead + flags.step) + "\t";
        for (std::size_t t = 0; t < tracks.size(); ++t)
          text[t] +=
              interval + io::tsv_number(predictions.values[w * predictions.width + t]) + "\n";
      }
      for (std::size_t t = 0; t < tracks.size(); ++t)
        tracks[t]->write(text[t]);
      windows += examples.size();
    }
  }
  for (auto& track : tracks)
    track->finish();
  log("scan")->info(
      "{} windows of {} bases every {} bases predicted -> {} track{} ({})", windows, flags.window,
      flags.step, tracks.size(), tracks.size() > 1 ? "s" : "",
      track_file(flags.out, names.front(), names.size() > 1) + (names.size() > 1 ? ", ..." : ""));
  if (too_short > 0) {
    log("scan")->warn("{} region{} shorter than the window: not scanned", too_short,
                      too_short > 1 ? "s" : "");
  }
  return 0;
}

}  // namespace

void register_scan(CLI::App& app, Action& action, const GlobalOptions& globals) {
  auto flags = std::make_shared<ScanFlags>();
  auto* command = app.add_subcommand(
      "scan", "slide a fine-tuned model along a genome or BED regions: bedGraph tracks");
  command->add_option("--model", flags->model, "a run folder of 'genolm finetune' (DNA)")
      ->required();
  command
      ->add_option("--reference", flags->reference,
                   "FASTA, plain or bgzip, indexed (.fai) or in a writable folder")
      ->required();
  command->add_option("--regions", flags->regions,
                      "BED file of regions to scan (plain or gzip); default: every contig whole");
  command->add_option("--window", flags->window, "bases the model reads at a time")->required();
  command->add_option("--step", flags->step, "bases between window starts")->required();
  command
      ->add_option("--out", flags->out,
                   "bedGraph; with several classes or targets, one file each: "
                   "<out without .bedGraph>.<track>.bedGraph")
      ->capture_default_str();
  flags->strands.add_to(*command);
  command->add_option("--batch-size", flags->batch_size, "windows per batch")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  flags->hardware.add_to(*command);
  command->callback([&action, &globals, flags] {
    action = [&globals, flags] { return run_scan(*flags, globals); };
  });
}

}  // namespace genolm::cli
