// FASTA and FASTQ, plain or gzip (the reader tells them apart by content). The first byte picks
// the options: alphabet, soft-mask handling, N-run splitting and a small chunk size, so records
// that span chunks are exercised too.
#include "fuzz_input.h"
#include "genolm/error.h"
#include "io/fastx_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  using namespace genolm;
  io::FastxOptions options;
  options.alphabet = (data[0] & 1) ? io::Alphabet::protein : io::Alphabet::dna;
  options.soft_mask = (data[0] & 2) ? io::SoftMask::upper : io::SoftMask::keep;
  options.n_run_split = (data[0] & 4) ? 3 : 0;
  options.chunk_bases = (data[0] & 8) ? 7 : 1000;
  const auto file = fuzz::write_input("input.fa", fuzz::as_text(data + 1, size - 1));
  try {
    io::FastxReader reader(file, options);
    io::SequenceChunk chunk;
    while (reader.next(chunk)) {
    }
    io::FastxReader records(file, options);
    io::SequenceRecord record;
    while (io::read_record(records, record)) {
    }
  } catch (const Error&) {
  }
  return 0;
}
