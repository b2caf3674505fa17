// The loop nest shared by the register-blocked gemm bodies (KernelTable::gemm): cache blocking
// over tokens and a walk over kRows x kTokens output tiles, with the ragged tails dispatched
// to smaller instantiations of the same tile body. No intrinsics here: each per-ISA file
// includes it and instantiates it with its own tile body, under its own compile flags.
//
// Blocking: the activation rows of one token chunk (about kActChunkBytes) stay in L2 while
// every group of kRows weight rows (a few KiB to tens of KiB, L1/L2) sweeps them; each
// weight row group is thus read from memory once per chunk, i.e. n_tokens / chunk times in
// all, and each loaded weight block serves kTokens tokens from registers.
//
// A tile body is an object with `template <int R, int T> void Tile(int64_t r0, int64_t t0)
// const` that writes y for rows [r0, r0 + R) and tokens [t0, t0 + T), R <= kRows, T <= kTokens.
// Thread safety: pure; the tile body decides what it touches.
#ifndef DSINFER_KERNELS_X86_GEMM_TILING_H_
#define DSINFER_KERNELS_X86_GEMM_TILING_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace dsinfer::kernels::x86 {

// Half of a 1 MiB (Zen 4) L2, leaving room for the weight rows and the outputs.
inline constexpr int64_t kActChunkBytes = int64_t{512} << 10;

// The operands of one gemm call (KernelTable::gemm in kernel_table.h): the base of every tile
// body, which reads them by name.
struct GemmOperands {
  int64_t n_in;
  const std::byte* w;
  int64_t w_row_bytes;
  const std::byte* act;
  int64_t act_row_bytes;
  float* y;
  int64_t ldy;
};

// Calls body.Tile<R, T> with the largest R <= kRows, T <= kTokens that fit rows x tokens.
template <int R, int T, typename Body>
void RunTile(const Body& body, int64_t rows, int64_t tokens, int64_t r0, int64_t t0) {
  if constexpr (R > 1) {
    if (rows < R) return RunTile<R - 1, T>(body, rows, tokens, r0, t0);
  }
  if constexpr (T > 1) {
    if (tokens < T) return RunTile<R, T - 1>(body, rows, tokens, r0, t0);
  }
  body.template Tile<R, T>(r0, t0);
}

// Covers rows [0, n_rows) x tokens [0, n_tokens) with tiles; activation rows are
// act_row_bytes long.
template <int kRows, int kTokens, typename Body>
void ForEachTile(const Body& body, int64_t n_rows, int64_t n_tokens, int64_t act_row_bytes) {
  const int64_t chunk = std::max<int64_t>(
      kTokens, kActChunkBytes / std::max<int64_t>(act_row_bytes, 1) / kTokens * kTokens);
  for (int64_t c0 = 0; c0 < n_tokens; c0 += chunk) {
    const int64_t c1 = std::min(n_tokens, c0 + chunk);
    for (int64_t r0 = 0; r0 < n_rows; r0 += kRows) {
      const int64_t rows = std::min<int64_t>(kRows, n_rows - r0);
      for (int64_t t0 = c0; t0 < c1; t0 += kTokens) {
        RunTile<kRows, kTokens>(body, rows, std::min<int64_t>(kTokens, c1 - t0), r0, t0);
      }
    }
  }
}

// One gemm call: the tile body Tiles (a GemmOperands with Tile<R, T>) over every tile.
template <int kRows, int kTokens, typename Tiles>
void RunGemm(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
             const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy) {
  Tiles tiles;
  static_cast<GemmOperands&>(tiles) = {n_in, w, w_row_bytes, act, act_row_bytes, y, ldy};
  ForEachTile<kRows, kTokens>(tiles, n_rows, n_tokens, act_row_bytes);
}

}  // namespace dsinfer::kernels::x86

#endif  // DSINFER_KERNELS_X86_GEMM_TILING_H_
