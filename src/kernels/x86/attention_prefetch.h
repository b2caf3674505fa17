// How the paged-attention bodies (x86/avx2 and x86/avx512 attention_simd.cc) ask for the next
// cache block while they compute on the current one: a score tile, as it steps through its
// key rows, asks for the same rows of the next block one line at a time (a line per key row
// every 64 bytes of it), and the value kernel asks for the lines of the next block's value
// rows that each of its passes reads in this one. The block's reads are trickled over its
// arithmetic.
//
// Why not the whole next block at once, as before: a decode step reads each layer's cache from
// DRAM (the weights have flushed the L3 since the layer's last visit), and a burst of the
// block's 128 lines (R1-Distill-Qwen-1.5B: 16 rows of 256 bytes, keys and values) is more than
// the core's outstanding misses; the rest of the burst did not arrive in time and the score
// loads waited for DRAM. attention_bench GqaDecodeCold, one thread: 0.51 ms with the burst,
// 0.255 ms trickled, what the call took with its cache warm in L2/L3 (bench/README.md,
// "Trickling the next block's reads").
//
// Rows must start on a cache line (the KV pool is 64-byte aligned and its rows are whole
// lines: head_dim 128 or 576 in F16 or F32) for every line to be asked for exactly once.
// Numerics: none; a prefetch changes no value. Thread safety: pure.
#ifndef DSINFER_KERNELS_X86_ATTENTION_PREFETCH_H_
#define DSINFER_KERNELS_X86_ATTENTION_PREFETCH_H_

#include <cstdint>

namespace dsinfer::kernels {

template <typename T>
inline constexpr int64_t kLineElems = 64 / static_cast<int64_t>(sizeof(T));

// True at the first step of each cache line of a row walked in steps of kLanes elements.
template <typename T, int64_t kLanes>
constexpr bool StartsLine(int64_t e) {
  return e % kLineElems<T> < kLanes;
}

// Asks for the lines of elements [p, p + n), n >= 1.
template <typename T>
inline void PrefetchLines(const T* p, int64_t n) {
  for (int64_t e = 0; e < n; e += kLineElems<T>) __builtin_prefetch(p + e);
}

// The next block's rows from row t on (`stride` elements a row), or null when there is none.
template <typename T>
inline const T* NextRowsFrom(const T* next, int64_t t, int64_t stride) {
  return next != nullptr ? next + t * stride : nullptr;
}

// Asks for the line holding element e of each of kRows rows, `stride` elements apart.
template <int kRows, typename T>
inline void PrefetchColumn(const T* rows, int64_t stride, int64_t e) {
  for (int j = 0; j < kRows; ++j) __builtin_prefetch(rows + j * stride + e);
}

}  // namespace dsinfer::kernels

#endif  // DSINFER_KERNELS_X86_ATTENTION_PREFETCH_H_
