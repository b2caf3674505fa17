// AVX-512 gemm of the lattice types (IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S, IQ1_M) with
// Q8_K activations, on the avx2 body's decode (x86/iq_grid_decode_body.inc and
// iq_signed_grid_decode_body.inc). Two bodies, both bit-identical to the reference dot (hence
// to the dot of every level): the integer block sums are the reference's exactly, and the
// float steps run per lane in the reference's order.
// - From 8 tokens on, panels (below): 16 rows' decoded blocks transposed so that each lane
//   is a row, multiplied by vpdpbusd against broadcast activations with no horizontal sums.
//   prefill_bench 512 tokens, 1 thread: 370-390 GFLOP/s at 2048x7168 (the two-row body
//   155-180).
// - Fewer tokens (MoE experts in decode-sized batches): two rows decoded together, each block
//   multiplied with every token two sub-blocks at a time (vpmaddubsw, vpdpwssd), and the
//   tokens' partial-sum vectors (2, 4 or 8 of them) folded into one vector with a token per
//   lane. kernels_bench tokens:3, 7168x2048, 1 thread: 1.3-2.9 ms per product, 1.04-1.45x
//   the tokens/s of the 16-vector fold it replaced (three IQ2_XXS dots take 1.9x as long).
//
// Thread safety: pure functions over caller-owned memory.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/x86/avx512/gemm.h"
#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/iq_grids.h"

namespace dsinfer::kernels::avx512 {
namespace {

#include "kernels/x86/iq_grid_decode_body.inc"
#include "kernels/x86/iq_grid_wide_body.inc"
#include "kernels/x86/iq_signed_grid_decode_body.inc"

// A block decoded by the avx2 body's steps (x86/iq_grid_decode_body.inc), two sub-blocks to a
// 512-bit step.
template <typename Type>
struct Avx2Decoder {
  void Decode(const typename Type::Block& b, WideBlock& out) const {
    const typename Type::State state = Type::Prepare(b);
// Unrolled: each sub-block's scale masks are then constants (SubBlockScales).
#pragma GCC unroll 4
    for (int k = 0; k < kPairs; ++k) {
      const SubBlockCodes lo = Type::SubBlock(b, state, 2 * k);
      const SubBlockCodes hi = Type::SubBlock(b, state, 2 * k + 1);
      out.codes[k] = _mm512_inserti64x4(_mm512_castsi256_si512(lo.codes), hi.codes, 1);
      out.scales[k] = _mm512_inserti64x4(_mm512_castsi256_si512(lo.scales), hi.scales, 1);
    }
    out.block = state;
  }
};

// ---- Panels: 16 rows in the lanes ----
//
// For many tokens, 16 rows' decoded blocks are transposed into a panel whose lane r holds row
// r, 4 codes per lane and column: vpdpbusd then multiplies a column of 16 rows by 4 of a
// token's activations (broadcast) with no horizontal sum at all, and each sub-block of 16's
// integer sum is scaled per lane (vpmulld by the rows' scales), its bsums correction taken
// off by vpdpwssd (the rows' corrections against the token's bsums, two at a time). Per lane
// this is BlockPartials' integer sum exactly, and the float steps are the reference's.

constexpr int kPanelRows = 16;
constexpr int kColumns = kQK_K / 4;    // 4-byte columns of a block
constexpr int kSixteens = kQK_K / 16;  // scales per block

struct Panel {
  __m512i codes[kColumns];             // lane r: row r's codes 4c .. 4c + 3
  __m512i scales[kSixteens];           // lane r: kAccScale times row r's scale of 16 h .. 16 h + 15
  __m512i corrections[kSixteens / 2];  // lane r: row r's corrections of h = 2j, 2j + 1 (int16)
  __m512 d;                            // lane r: row r's d
};

// 16 rows of 16 dwords -> 16 columns of 16 rows: m[j] lane r = the old m[r] lane j.
void Transpose16x16(__m512i (&m)[16]) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(m[i], m[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(m[i], m[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    m[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    m[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    m[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    m[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  // Each 128-bit lane now holds one 4x4 block, transposed; two rounds of 128-bit shuffles
  // move the blocks to their places (checked against a scalar transpose when written).
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_shuffle_i32x4(m[i], m[i + 4], 0x88);
    t[i + 4] = _mm512_shuffle_i32x4(m[i], m[i + 4], 0xDD);
    t[i + 8] = _mm512_shuffle_i32x4(m[i + 8], m[i + 12], 0x88);
    t[i + 12] = _mm512_shuffle_i32x4(m[i + 8], m[i + 12], 0xDD);
  }
  for (int i = 0; i < 4; ++i) {
    m[i] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0x88);
    m[i + 8] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0xDD);
    m[i + 4] = _mm512_shuffle_i32x4(t[i + 4], t[i + 12], 0x88);
    m[i + 12] = _mm512_shuffle_i32x4(t[i + 4], t[i + 12], 0xDD);
  }
}

// Rows r0 .. r0 + rows - 1's block i as a panel; lanes past `rows` get zeros (products of 0).
template <typename Type>
void DecodePanel(const std::byte* w, int64_t w_row_bytes, int rows, int64_t i, Panel& panel) {
  alignas(64) uint8_t codes[kPanelRows][kQK_K] = {};
  alignas(64) int16_t scales[kPanelRows][kSixteens] = {};
  alignas(64) int16_t corrections[kPanelRows][kSixteens] = {};
  alignas(64) float d[kPanelRows] = {};
  for (int r = 0; r < rows; ++r) {
    const auto& b = reinterpret_cast<const typename Type::Block*>(w + r * w_row_bytes)[i];
    const typename Type::State state = Type::Prepare(b);
    for (int ib = 0; ib < kSubBlocks; ++ib) {
      _mm256_store_si256(reinterpret_cast<__m256i*>(codes[r] + ptrdiff_t{kQK} * ib),
                         Type::SubBlock(b, state, ib).codes);
    }
    _mm256_store_si256(reinterpret_cast<__m256i*>(scales[r]), state.per_sixteen);
    _mm256_store_si256(reinterpret_cast<__m256i*>(corrections[r]), state.correction);
    d[r] = state.d;
  }
  for (int q = 0; q < kColumns / 16; ++q) {
    __m512i m[16];
    for (int r = 0; r < kPanelRows; ++r) m[r] = _mm512_load_si512(codes[r] + ptrdiff_t{64} * q);
    Transpose16x16(m);
    for (int j = 0; j < 16; ++j) panel.codes[16 * q + j] = m[j];
  }
  alignas(64) int32_t lanes[kPanelRows];
  for (int h = 0; h < kSixteens; ++h) {
    for (int r = 0; r < kPanelRows; ++r) lanes[r] = Type::kAccScale * scales[r][h];
    panel.scales[h] = _mm512_load_si512(lanes);
  }
  for (int j = 0; j < kSixteens / 2; ++j) {
    // Dword j of a row's int16 corrections is the pair h = 2j, 2j + 1, low first.
    for (int r = 0; r < kPanelRows; ++r) {
      std::memcpy(&lanes[r], corrections[r] + ptrdiff_t{2} * j, sizeof(int32_t));
    }
    panel.corrections[j] = _mm512_load_si512(lanes);
  }
  panel.d = _mm512_load_ps(d);
}

// The panel's 16 block products with one token, one per lane.
__m512i PanelProduct(const Panel& p, const BlockQ8_K& a) {
  __m512i acc = _mm512_setzero_si512();
  for (int h = 0; h < kSixteens; ++h) {
    const int8_t* q8 = a.qs + ptrdiff_t{16} * h;
    __m512i dot = _mm512_setzero_si512();
    for (int j = 0; j < 4; ++j) {
      int32_t four = 0;
      std::memcpy(&four, q8 + ptrdiff_t{4} * j, sizeof(four));
      dot = _mm512_dpbusd_epi32(dot, p.codes[4 * h + j], _mm512_set1_epi32(four));
    }
    acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(dot, p.scales[h]));
  }
  __m512i correction = _mm512_setzero_si512();
  for (int j = 0; j < kSixteens / 2; ++j) {
    int32_t pair = 0;
    std::memcpy(&pair, a.bsums + ptrdiff_t{2} * j, sizeof(pair));
    correction = _mm512_dpwssd_epi32(correction, p.corrections[j], _mm512_set1_epi32(pair));
  }
  return _mm512_sub_epi32(acc, correction);
}

// Tokens that one decode of a panel's block serves (their sums: 32 KiB of stack). The decode
// costs about what 17 tokens' products do, so a wide tile pays: prefill_bench 512 tokens, 1
// thread, against a tile of 64: 2048x7168 313-319 -> 381-391 GFLOP/s (IQ2_XXS), 283-293 ->
// 377-386 (IQ3_S); 7168x2048 288 -> 369-374 (IQ3_S). A tile of 256 gave three quarters of it.
constexpr int64_t kPanelTokenTile = 512;

template <typename Type>
void PanelGemm(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
               const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y,
               int64_t ldy) {
  const int64_t n_blocks = n_in / kQK_K;
  Panel panel;
  for (int64_t r0 = 0; r0 < n_rows; r0 += kPanelRows) {
    const int rows = static_cast<int>(std::min<int64_t>(kPanelRows, n_rows - r0));
    for (int64_t t0 = 0; t0 < n_tokens; t0 += kPanelTokenTile) {
      const int64_t tile = std::min(kPanelTokenTile, n_tokens - t0);
      __m512 sums[kPanelTokenTile];
      for (__m512& s : sums) s = _mm512_setzero_ps();
      for (int64_t i = 0; i < n_blocks; ++i) {
        DecodePanel<Type>(w + r0 * w_row_bytes, w_row_bytes, rows, i, panel);
        for (int64_t t = 0; t < tile; ++t) {
          const auto* a = reinterpret_cast<const BlockQ8_K*>(act + (t0 + t) * act_row_bytes) + i;
          const __m512 d = _mm512_mul_ps(panel.d, _mm512_set1_ps(a->d));
          sums[t] = _mm512_add_ps(sums[t], Terms<Type>(d, PanelProduct(panel, *a)));
        }
      }
      for (int64_t t = 0; t < tile; ++t) {
        alignas(64) float lane[kPanelRows];
        _mm512_store_ps(lane, sums[t]);
        for (int r = 0; r < rows; ++r) y[(t0 + t) * ldy + r0 + r] = Type::Finish(lane[r]);
      }
    }
  }
}

template <typename Type>
void Gemm(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
          const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy) {
  if (n_tokens >= kPanelMinTokens) {
    PanelGemm<Type>(n_in, w, w_row_bytes, n_rows, act, act_row_bytes, n_tokens, y, ldy);
  } else {
    FewTokenGemm<Type>(Avx2Decoder<Type>{}, n_in, w, w_row_bytes, n_rows, act, act_row_bytes,
                       n_tokens, y, ldy);
  }
}

}  // namespace

#include "kernels/x86/iq_grid_gemm_entries.inc"

}  // namespace dsinfer::kernels::avx512
