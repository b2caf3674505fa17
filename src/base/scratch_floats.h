// ScratchFloats: an uninitialised float buffer for a forward step's activations, taken from a
// cache of the calling thread's freed buffers instead of allocated afresh.
//
// Why: every layer of a forward pass allocates its activations again, and std::vector<float>
// zero-fills them; above glibc's 32 MiB mmap threshold (the highest mallopt takes) each buffer
// is also mapped fresh and its pages faulted in and zeroed by the kernel on first touch. A
// 2048-token prefill of the 1.5B shape allocates two 73 MB gate/up buffers per layer: faults
// and memset over them were ~7 % of its profile. The same layer shapes repeat, so the buffers
// one layer frees fit the next one's.
//
// A ScratchFloats takes the smallest cached buffer that holds n floats (or allocates one) and
// gives it back to the cache of the thread that destroys it. A thread's cache keeps at most
// its limit (1 GiB unless set) and frees what would exceed it. Contents are whatever the last
// user left: every element must be written before it is read.
// Thread safety: each thread has its own cache; a ScratchFloats belongs to one thread at a
// time.
#ifndef DSINFER_BASE_SCRATCH_FLOATS_H_
#define DSINFER_BASE_SCRATCH_FLOATS_H_

#include <cstddef>
#include <span>

#include "base/aligned_buffer.h"

namespace dsinfer {

class ScratchFloats {
 public:
  explicit ScratchFloats(size_t n);  // 64-byte aligned
  ~ScratchFloats();
  ScratchFloats(const ScratchFloats&) = delete;
  ScratchFloats& operator=(const ScratchFloats&) = delete;

  std::span<float> span() { return {buffer_.as<float>(), size_}; }
  float* data() { return buffer_.as<float>(); }
  size_t size() const { return size_; }

 private:
  AlignedBuffer buffer_;
  size_t size_;
};

// Bytes of freed buffers the calling thread's cache holds.
size_t ScratchCacheBytes();

// The most the calling thread's cache holds from now on; buffers beyond it are freed now.
void SetScratchCacheLimit(size_t bytes);

}  // namespace dsinfer

#endif  // DSINFER_BASE_SCRATCH_FLOATS_H_
