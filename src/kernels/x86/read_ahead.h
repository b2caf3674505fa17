// How decode's weight reads ask for their lines ahead, kReadAheadBytes past where they are, into
// L2 (platform/memory_bandwidth.h says why): the packed bodies block by block
// (x86/packed_x8_body.inc, PrefetchAheadPart), and the row-layout float dots (x86/avx2 and
// x86/avx512 float_dots.cc: F32, F16 and BF16 weights, which have no packed layout) as follows:
// on rows of kStreamedRowBytes and more, each step of a dot asks for its lines; near a row's end
// that is the next row, which a matvec reads next.
//
// Why only long rows: there the hardware prefetchers alone keep too few lines in flight. A
// matvec of 1536 x 8960 from memory on two AMD Zen 4 threads read 0.70 (BF16), 0.52 (F16) and
// 0.90 (F32) of the probe beside it without, 1.00 / 1.01 / 0.99 with these prefetches. Rows of
// 3 KiB (8960 x 1536 BF16) they serve well, and the same prefetches there read 5-7 % less
// (bench/README.md).
//
// Numerics: none; a prefetch changes no value, and never faults past the end of a matrix.
// Thread safety: pure.
#ifndef DSINFER_KERNELS_X86_READ_AHEAD_H_
#define DSINFER_KERNELS_X86_READ_AHEAD_H_

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

// Asks for lines [first_line, end_line) of the bytes kReadAheadBytes past `at`.
inline void PrefetchLinesAhead(const void* at, int64_t first_line, int64_t end_line) {
  // Integer arithmetic: the address may lie past the end of the matrix, where pointer
  // arithmetic would be undefined.
  const uintptr_t ahead = reinterpret_cast<uintptr_t>(at) + kReadAheadBytes;
  for (int64_t line = first_line; line < end_line; ++line) {
    const uintptr_t address = ahead + static_cast<uintptr_t>(64 * line);
    _mm_prefetch(reinterpret_cast<const char*>(address),  // NOLINT(performance-no-int-to-ptr)
                 _MM_HINT_T1);
  }
}

// Asks for the kLines lines kReadAheadBytes past `step` (the start of a step of a dot).
template <int kLines>
inline void PrefetchStepAhead(const void* step) {
  PrefetchLinesAhead(step, 0, kLines);
}

}  // namespace dsinfer::kernels

#endif  // DSINFER_KERNELS_X86_READ_AHEAD_H_
