#pragma once
// The process heap during training: keep what a step frees for the next step.

namespace genolm {

// From now on, memory the process frees stays in its heap instead of going back to the system.
// A training step allocates and frees the same large tensors every time; glibc's defaults hand
// them back (mmap/munmap, heap trimming), so each step faulted them in again page by page, about
// 9% of a small AWD-LSTM's step on 2 cores. The heap then stays at the size of the largest step,
// which the next step needs anyway. Call it once the big one-off buffers (corpus building) are
// freed. Does nothing on C libraries other than glibc.
void keep_freed_memory_in_heap();

}  // namespace genolm
