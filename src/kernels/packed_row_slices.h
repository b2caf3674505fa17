// Where a long row's columns lie in a packed weight (packed_matrix.h): rows longer than
// kLongestUnslicedRow are cut (where PackedRowSlices says) into column slices of at most about
// kWidestSlice elements, and the groups of 8 rows (packed_layout.h) are stored in quads of
// kQuadGroups groups, each quad holding slice 0 of each of its groups, then slice 1 of each, and so
// on. A matvec then reads one slice's activations for four groups in a row, out of L1, and the quad
// is still one run of bytes.
//
// Why: the activations of a row are read again for every group. A group of 8 Q4_0 rows of 8960
// streams 40 KiB past them, and their 9.5 KiB of Q8_0 left L1 between two groups: on AMD Zen 5
// every group refilled them, and such rows read 0.85-0.88 of a probe where rows of 1536 read
// 0.99. Sliced, 1536 x 8960 reads Q4_0 0.83 -> 0.93 of a probe beside it, Q8_0 0.87 -> 0.96,
// Q4_K 0.92 -> 0.94 and Q6_K 0.91 -> 0.93 (two threads, alternating; bench/README.md). Rows up
// to kLongestUnslicedRow keep one slice, the layout of before.
//
// Thread safety: pure functions; PackedRowSlices answers from a choice made once, at its first
// call.
#ifndef DSINFER_KERNELS_PACKED_ROW_SLICES_H_
#define DSINFER_KERNELS_PACKED_ROW_SLICES_H_

#include <algorithm>
#include <cstdint>

#include "kernels/packed_layout.h"
#include "tensor/dtype.h"

namespace dsinfer::kernels {

inline constexpr int64_t kLongestUnslicedRow = 4096;
inline constexpr int64_t kWidestSlice = 2048;
// Slice widths are multiples of this, the K-quants' block (a multiple of every block size).
inline constexpr int64_t kSliceStep = 256;
inline constexpr int64_t kQuadGroups = 4;

// The column slices of a row of n_in elements: `count` slices, each `width` elements but the
// last, which has the rest.
struct RowSlices {
  int64_t width = 0;
  int64_t count = 1;

  int64_t Begin(int64_t s) const { return s * width; }
  int64_t Width(int64_t s, int64_t n_in) const { return s + 1 < count ? width : n_in - s * width; }
};

// One slice up to kLongestUnslicedRow; past it the fewest slices of at most kWidestSlice, as even
// as kSliceStep allows (8960: five of 1792; 18944: nine of 2048 and one of 512).
inline RowSlices RowSlicesOf(int64_t n_in) {
  if (n_in <= kLongestUnslicedRow) return {.width = n_in, .count = 1};
  const auto ceil_div = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
  const int64_t even = ceil_div(n_in, ceil_div(n_in, kWidestSlice));
  const int64_t width = ceil_div(even, kSliceStep) * kSliceStep;
  return {.width = width, .count = ceil_div(n_in, width)};
}

// The slices PackInto and MatMulPacked use on this machine: RowSlicesOf(n_in) where the kernels
// run the 256-bit group tiles on long rows, else one slice. Where the avx512 level runs other
// tiles on long rows (avx512::MatvecTilesFor: the wide tiles on Intel and AMD Zen 4, the spread
// pairs on Intel's short rows, which would lay a slice's activations out again for every quad),
// rows stay whole: those tiles were measured on whole rows. Fixed for the process's life.
RowSlices PackedRowSlices(int64_t n_in);

// Byte offset, in a packed weight of `groups` groups of n_in columns, of slice s of group g.
// With one slice, g * PackedGroupBytes(dtype, n_in): the unsliced layout.
inline int64_t PackedSliceOffset(DType dtype, int64_t n_in, const RowSlices& slices, int64_t groups,
                                 int64_t g, int64_t s) {
  const int64_t quad = g / kQuadGroups;
  const int64_t in_quad = std::min(kQuadGroups, groups - quad * kQuadGroups);
  return quad * kQuadGroups * PackedGroupBytes(dtype, n_in) +
         in_quad * PackedGroupBytes(dtype, slices.Begin(s)) +
         (g - quad * kQuadGroups) * PackedGroupBytes(dtype, slices.Width(s, n_in));
}

}  // namespace dsinfer::kernels

#endif  // DSINFER_KERNELS_PACKED_ROW_SLICES_H_
