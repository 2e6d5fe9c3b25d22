#pragma once
// How much the input readers (gzip or plain files, FASTA/FASTQ, tables) read at a time. Large, for
// throughput on genomes. Fuzzing builds (GENOLM_SMALL_READ_BUFFERS) shrink it, so that small
// inputs cross buffer boundaries, as genomes do, and each input costs microseconds, not the
// megabytes of sanitizer-poisoned buffers.

#include <cstddef>

namespace genolm::io {

#ifdef GENOLM_SMALL_READ_BUFFERS
inline constexpr std::size_t kReadBufferBytes = 64;
#else
inline constexpr std::size_t kReadBufferBytes = std::size_t{1} << 20;
#endif

}  // namespace genolm::io
