// How the row-layout float dots (x86/avx2 and x86/avx512 float_dots.cc: F32, F16 and BF16
// weights, which have no packed layout) ask for the weights a decode matvec streams from memory:
// on rows of kStreamedRowBytes and more, each step of a dot asks for its lines kReadAheadBytes
// ahead into L2, as the packed bodies do (platform/memory_bandwidth.h); near a row's end that is
// the next row, which a matvec reads next.
//
// Why only long rows: there the hardware prefetchers alone keep too few lines in flight. A
// matvec of 1536 x 8960 from memory on two AMD Zen 4 threads read 0.70 (BF16), 0.52 (F16) and
// 0.90 (F32) of the probe beside it without, 1.00 / 1.01 / 0.99 with these prefetches. Rows of
// 3 KiB (8960 x 1536 BF16) they serve well, and the same prefetches there read 5-7 % less
// (bench/README.md).
//
// Numerics: none; a prefetch changes no value, and never faults past the end of a matrix.
// Thread safety: pure.
#ifndef DSINFER_KERNELS_X86_FLOAT_DOT_PREFETCH_H_
#define DSINFER_KERNELS_X86_FLOAT_DOT_PREFETCH_H_

#include <immintrin.h>

#include <cstdint>

#include "platform/memory_bandwidth.h"

namespace dsinfer::kernels {

inline constexpr int64_t kStreamedRowBytes = 8192;

// Whether a dot over `n` elements of `T` asks for its weights ahead.
template <typename T>
constexpr bool IsStreamedRow(int64_t n) {
  return n * static_cast<int64_t>(sizeof(T)) >= kStreamedRowBytes;
}

// Asks for the kLines lines kReadAheadBytes past `step` (the start of a step of a dot).
template <int kLines>
inline void PrefetchStepAhead(const void* step) {
  // Integer arithmetic: the address may lie past the end of the matrix, where pointer
  // arithmetic would be undefined.
  const uintptr_t ahead = reinterpret_cast<uintptr_t>(step) + kReadAheadBytes;
  for (int64_t line = 0; line < kLines; ++line) {
    const uintptr_t address = ahead + static_cast<uintptr_t>(64 * line);
    _mm_prefetch(reinterpret_cast<const char*>(address),  // NOLINT(performance-no-int-to-ptr)
                 _MM_HINT_T1);
  }
}

}  // namespace dsinfer::kernels

#endif  // DSINFER_KERNELS_X86_FLOAT_DOT_PREFETCH_H_
