// AMX gemm body of Q8_0 weights x Q8_0 activations (prefill, MoE expert batches). UNEXECUTED
// on the development machine (no AMX there): the kernel tests run it wherever the CPU reaches
// the amx level.
//
// Q8_0 has one scale per 32-element block, so an int32 tile can accumulate only one block:
// each block is one TDPBSSD of 16 tokens x 16 weight rows x 32 bytes, stored, and its sums
// are scaled by d_w * d_a and accumulated in 16 AVX-512 float registers (one per token, the
// 16 weight rows in the lanes), the order of the reference (sum over blocks of
// float(sumi) * (d_w * d_a)) except that the FMA rounds once.
//
// Tiles (tile_config.h explains why the configuration is a constexpr object):
//   tmm0  C  16 tokens x 16 rows of int32 (64 bytes a row)
//   tmm1  A  16 tokens x one block of activation bytes (32 bytes a row), loaded straight from
//            the Q8_0 activation rows: stride act_row_bytes, at the block's qs
//   tmm2  B  one block of 16 weight rows in the VNNI layout TDPBSSD wants: 8 rows of
//            16 weight rows x 4 consecutive bytes, B[k][4n + j] = w_n.qs[4k + j]
// so C[t][n] += sum_k sum_j A[t][4k + j] * B[k][4n + j] = dot(act_t block, w_n block).
//
// Repacking cost: B is built per group of 16 weight rows, once per call, by 8 dword gathers per
// block (plus one for the 16 scales), into per-thread scratch of n_in / 32 * 576 bytes; it is
// then reused by every 16-token tile, so it costs about 1/n_token_tiles of the tile work
// (~7 % at 512 tokens by the instruction counts; unmeasured). A ragged last token tile is
// copied once into a zero-padded 16-row buffer; ragged weight rows are zero columns of B.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "base/check.h"
#include "kernels/x86/amx/gemm.h"
#include "kernels/x86/amx/tile_config.h"
#include "quant/blocks.h"

namespace dsinfer::kernels::amx {
namespace {

constexpr int kTileTokens = 16;
constexpr int kTileRows = 16;
constexpr int kBlockBytes = static_cast<int>(sizeof(BlockQ8_0));
constexpr int kQsOffset = static_cast<int>(offsetof(BlockQ8_0, qs));
constexpr int kPackedDwords = kQK / 4 * kTileRows;  // one B tile: 8 x 16 dwords

constexpr TileShape kTiles[] = {{.tmm = 0, .rows = kTileTokens, .colsb = kTileRows * 4},
                                {.tmm = 1, .rows = kTileTokens, .colsb = kQK},
                                {.tmm = 2, .rows = kQK / 4, .colsb = kTileRows * 4}};
constexpr TileConfig kQ8_0TileConfig = MakeTileConfig(kTiles);

struct Scratch {
  std::vector<int32_t> packed_qs;      // n_blocks x kPackedDwords
  std::vector<float> packed_scales;    // n_blocks x kTileRows
  std::vector<std::byte> tail_tokens;  // kTileTokens activation rows, zero past the tail
};

// B tiles and the float scales of `rows` weight rows (zeros for the missing ones).
void PackWeights(const std::byte* w, int64_t w_row_bytes, int rows, int64_t n_blocks, int32_t* qs,
                 float* scales) {
  const __m512i row_offsets =
      _mm512_mullo_epi32(_mm512_set1_epi32(static_cast<int32_t>(w_row_bytes)),
                         _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  const auto valid = static_cast<__mmask16>((uint32_t{1} << rows) - 1);
  const __m512i zero = _mm512_setzero_si512();
  for (int64_t b = 0; b < n_blocks; ++b) {
    const std::byte* block = w + b * kBlockBytes;
    // The dword at the block start holds d in its low half.
    const __m512i d = _mm512_mask_i32gather_epi32(zero, valid, row_offsets, block, 1);
    _mm512_storeu_ps(scales + b * kTileRows, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(d)));
    for (int k = 0; k < kQK / 4; ++k) {
      const __m512i q = _mm512_mask_i32gather_epi32(zero, valid, row_offsets,
                                                    block + kQsOffset + int64_t{4} * k, 1);
      _mm512_storeu_si512(qs + b * kPackedDwords + int64_t{k} * kTileRows, q);
    }
  }
}

// One 16-token x 16-row output tile: y[t * ldy + n] for t < tokens, n < rows.
void Tile(const std::byte* a, int64_t act_row_bytes, const int32_t* qs, const float* scales,
          int64_t n_blocks, int tokens, int rows, float* y, int64_t ldy) {
  __m512 acc[kTileTokens];
  for (__m512& v : acc) v = _mm512_setzero_ps();
  alignas(64) int32_t sums[kTileTokens][kTileRows];
  for (int64_t b = 0; b < n_blocks; ++b) {
    const std::byte* a_block = a + b * kBlockBytes;
    _tile_zero(0);
    _tile_loadd(1, a_block + kQsOffset, act_row_bytes);
    _tile_loadd(2, qs + b * kPackedDwords, kTileRows * 4);
    _tile_dpbssd(0, 1, 2);
    _tile_stored(0, sums, kTileRows * 4);
    const __m512 dw = _mm512_loadu_ps(scales + b * kTileRows);
#pragma GCC unroll 16
    for (int t = 0; t < kTileTokens; ++t) {
      uint16_t d_bits;
      std::memcpy(&d_bits, a_block + t * act_row_bytes, sizeof(d_bits));
      const __m512 scale = _mm512_mul_ps(dw, _mm512_set1_ps(_cvtsh_ss(d_bits)));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(sums[t])), scale, acc[t]);
    }
  }
  const auto valid = static_cast<__mmask16>((uint32_t{1} << rows) - 1);
  for (int t = 0; t < tokens; ++t) _mm512_mask_storeu_ps(y + t * ldy, valid, acc[t]);
}

}  // namespace

void GemmQ8_0(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
              const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y,
              int64_t ldy) {
  // The gathers index 16 rows with int32 byte offsets.
  DSI_CHECK(w_row_bytes <= INT32_MAX / kTileRows);
  const int64_t n_blocks = n_in / kQK;
  thread_local Scratch scratch;
  scratch.packed_qs.resize(static_cast<size_t>(n_blocks * kPackedDwords));
  scratch.packed_scales.resize(static_cast<size_t>(n_blocks * kTileRows));
  const int64_t full_tokens = n_tokens / kTileTokens * kTileTokens;
  if (full_tokens < n_tokens) {
    const auto tail_bytes = static_cast<size_t>((n_tokens - full_tokens) * act_row_bytes);
    scratch.tail_tokens.assign(static_cast<size_t>(kTileTokens * act_row_bytes), std::byte{0});
    std::memcpy(scratch.tail_tokens.data(), act + full_tokens * act_row_bytes, tail_bytes);
  }

  LoadTileConfig(kQ8_0TileConfig);
  for (int64_t r0 = 0; r0 < n_rows; r0 += kTileRows) {
    const int rows = static_cast<int>(std::min<int64_t>(kTileRows, n_rows - r0));
    PackWeights(w + r0 * w_row_bytes, w_row_bytes, rows, n_blocks, scratch.packed_qs.data(),
                scratch.packed_scales.data());
    TileReadBarrier();  // the packed B tiles and the tail rows are read by tile loads
    for (int64_t t0 = 0; t0 < n_tokens; t0 += kTileTokens) {
      const int tokens = static_cast<int>(std::min<int64_t>(kTileTokens, n_tokens - t0));
      const std::byte* a = t0 < full_tokens ? act + t0 * act_row_bytes : scratch.tail_tokens.data();
      Tile(a, act_row_bytes, scratch.packed_qs.data(), scratch.packed_scales.data(), n_blocks,
           tokens, rows, y + t0 * ldy + r0, ldy);
    }
  }
  _tile_release();
}

}  // namespace dsinfer::kernels::amx
