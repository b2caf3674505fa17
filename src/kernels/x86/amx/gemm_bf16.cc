// AMX gemm body of BF16 weights x BF16 activations (prefill, MoE expert batches). UNEXECUTED
// on the development machine (no AMX there): the kernel tests run it wherever the CPU reaches
// the amx level.
//
// BF16 has no block scales, so the fp32 C tiles accumulate over the whole row: per group of
// 32 tokens x 32 weight rows, four C tiles (2 x 2) take one TDPBF16PS each per 32 elements of
// the row, from two A tiles (16 tokens each) and two B tiles (16 weight rows each), and are
// stored once at the end. The last n_in % 32 elements are added in scalar code.
//
// Tiles (tile_config.h explains why the configuration is a constexpr object):
//   tmm0..3  C  16 tokens x 16 rows of fp32: (A0,B0) (A0,B1) (A1,B0) (A1,B1)
//   tmm4, 5  A  16 tokens x 32 BF16 (64 bytes a row), loaded straight from the activation
//               rows (stride act_row_bytes)
//   tmm6, 7  B  32 elements of 16 weight rows in the VNNI pair layout TDPBF16PS wants:
//               16 rows of 16 weight rows x one (even, odd) BF16 pair,
//               B[i][2n + j] = w_n[k + 2i + j]
// so C[t][n] += sum_i A[t][2i] * B[i][2n] + A[t][2i + 1] * B[i][2n + 1].
//
// Repacking cost: the B tiles of a 32-row group are built once per call by 16-dword gathers
// (one per element pair and 16 rows: n_in gathers per group) into per-thread scratch of
// n_in * 64 bytes, then reused by every 32-token group: at 512 tokens about 32 gathers per 64
// tile products (~15-25 % of the tile time by throughput estimates; unmeasured). Repacking at
// load time would remove it. A ragged last token group is copied into a zero-padded 32-row
// buffer; ragged weight rows are zero columns of B.
// Numerics: TDPBF16PS flushes subnormal BF16 inputs and fp32 results to zero and its internal
// summation order is its own; the float-order tolerance of the tests covers both.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "base/check.h"
#include "kernels/x86/amx/gemm.h"
#include "kernels/x86/amx/tile_config.h"
#include "quant/half.h"

namespace dsinfer::kernels::amx {
namespace {

constexpr int kTileTokens = 16;
constexpr int kTileRows = 16;
constexpr int kGroup = 32;  // tokens and weight rows per group of 2 x 2 C tiles
constexpr int kStep = 32;   // BF16 elements per A tile row (64 bytes)
constexpr int kPackedDwords = kStep / 2 * kTileRows;  // one B tile: 16 x 16 dwords

constexpr TileShape kTiles[] = {{.tmm = 0, .rows = kTileTokens, .colsb = kTileRows * 4},
                                {.tmm = 1, .rows = kTileTokens, .colsb = kTileRows * 4},
                                {.tmm = 2, .rows = kTileTokens, .colsb = kTileRows * 4},
                                {.tmm = 3, .rows = kTileTokens, .colsb = kTileRows * 4},
                                {.tmm = 4, .rows = kTileTokens, .colsb = kStep * 2},
                                {.tmm = 5, .rows = kTileTokens, .colsb = kStep * 2},
                                {.tmm = 6, .rows = kStep / 2, .colsb = kTileRows * 4},
                                {.tmm = 7, .rows = kStep / 2, .colsb = kTileRows * 4}};
constexpr TileConfig kBf16TileConfig = MakeTileConfig(kTiles);

struct Scratch {
  std::vector<int32_t> packed;         // n_steps x 2 B tiles x kPackedDwords
  std::vector<std::byte> tail_tokens;  // kGroup activation rows, zero past the tail
};

// The B tiles of `rows` (<= 32) weight rows for the first n_steps * 32 elements.
void PackWeights(const std::byte* w, int64_t w_row_bytes, int rows, int64_t n_steps,
                 int32_t* packed) {
  const __m512i row_offsets =
      _mm512_mullo_epi32(_mm512_set1_epi32(static_cast<int32_t>(w_row_bytes)),
                         _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  const __m512i zero = _mm512_setzero_si512();
  for (int half = 0; half < 2; ++half) {
    const int half_rows = std::clamp(rows - half * kTileRows, 0, kTileRows);
    const auto valid = static_cast<__mmask16>((uint32_t{1} << half_rows) - 1);
    // No pointer past the matrix when the second half is empty: its tiles are all zero.
    const std::byte* w_half = half_rows > 0 ? w + int64_t{half} * kTileRows * w_row_bytes : w;
    for (int64_t s = 0; s < n_steps; ++s) {
      int32_t* tile = packed + (s * 2 + half) * kPackedDwords;
      for (int i = 0; i < kStep / 2; ++i) {
        const std::byte* pair = w_half + (s * kStep + int64_t{2} * i) * 2;
        _mm512_storeu_si512(tile + int64_t{i} * kTileRows,
                            _mm512_mask_i32gather_epi32(zero, valid, row_offsets, pair, 1));
      }
    }
  }
}

// One group: y[t * ldy + n] for t < tokens, n < rows (both <= 32).
void Group(int64_t n_in, const std::byte* a, int64_t act_row_bytes, const std::byte* w,
           int64_t w_row_bytes, const int32_t* packed, int tokens, int rows, float* y,
           int64_t ldy) {
  const int64_t n_steps = n_in / kStep;
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (int64_t s = 0; s < n_steps; ++s) {
    const std::byte* a_step = a + s * kStep * 2;
    _tile_loadd(4, a_step, act_row_bytes);
    _tile_loadd(5, a_step + kTileTokens * act_row_bytes, act_row_bytes);
    _tile_loadd(6, packed + (s * 2) * kPackedDwords, kTileRows * 4);
    _tile_loadd(7, packed + (s * 2 + 1) * kPackedDwords, kTileRows * 4);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  alignas(64) float c[4][kTileTokens][kTileRows];
  _tile_stored(0, c[0], kTileRows * 4);
  _tile_stored(1, c[1], kTileRows * 4);
  _tile_stored(2, c[2], kTileRows * 4);
  _tile_stored(3, c[3], kTileRows * 4);
  for (int t = 0; t < tokens; ++t) {
    const auto* a_row = reinterpret_cast<const uint16_t*>(a + t * act_row_bytes);
    for (int n = 0; n < rows; ++n) {
      float sum = c[(t / kTileTokens) * 2 + n / kTileRows][t % kTileTokens][n % kTileRows];
      const auto* w_row = reinterpret_cast<const uint16_t*>(w + n * w_row_bytes);
      for (int64_t k = n_steps * kStep; k < n_in; ++k) {
        sum += Bf16ToFp32(w_row[k]) * Bf16ToFp32(a_row[k]);
      }
      y[t * ldy + n] = sum;
    }
  }
}

}  // namespace

void GemmBF16(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
              const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y,
              int64_t ldy) {
  // The gathers index 16 rows with int32 byte offsets.
  DSI_CHECK(w_row_bytes <= INT32_MAX / kTileRows);
  const int64_t n_steps = n_in / kStep;
  thread_local Scratch scratch;
  scratch.packed.resize(static_cast<size_t>(n_steps * 2 * kPackedDwords));
  const int64_t full_tokens = n_tokens / kGroup * kGroup;
  if (full_tokens < n_tokens) {
    const auto tail_bytes = static_cast<size_t>((n_tokens - full_tokens) * act_row_bytes);
    scratch.tail_tokens.assign(static_cast<size_t>(kGroup * act_row_bytes), std::byte{0});
    std::memcpy(scratch.tail_tokens.data(), act + full_tokens * act_row_bytes, tail_bytes);
  }

  LoadTileConfig(kBf16TileConfig);
  for (int64_t r0 = 0; r0 < n_rows; r0 += kGroup) {
    const int rows = static_cast<int>(std::min<int64_t>(kGroup, n_rows - r0));
    const std::byte* w_group = w + r0 * w_row_bytes;
    PackWeights(w_group, w_row_bytes, rows, n_steps, scratch.packed.data());
    TileReadBarrier();  // the packed B tiles and the tail rows are read by tile loads
    for (int64_t t0 = 0; t0 < n_tokens; t0 += kGroup) {
      const int tokens = static_cast<int>(std::min<int64_t>(kGroup, n_tokens - t0));
      const std::byte* a = t0 < full_tokens ? act + t0 * act_row_bytes : scratch.tail_tokens.data();
      Group(n_in, a, act_row_bytes, w_group, w_row_bytes, scratch.packed.data(), tokens, rows,
            y + t0 * ldy + r0, ldy);
    }
  }
  _tile_release();
}

}  // namespace dsinfer::kernels::amx
