// AVX-512 (BW + VNNI) gemm bodies of Q4_K and Q6_K weights with Q8_K activations (prefill,
// MoE expert batches): tiles of 2 weight rows x 8 tokens (16 int32 accumulators). Each weight
// super-block is unpacked (nibbles, 6-bit scales, Q6_K's high bits) once per tile and serves 8
// tokens from registers; each activation super-block serves 2 rows. (4 x 4 tiles measured the
// same; the cost is per (row, token) pair, the two multiplies per 64 products, at ~65% of
// their peak rate.)
// The entry points are the shared x86/gemm_k_quants_body.inc, the scale unpacking
// x86/k_scales_body.inc.
//
// Integer part, per (row, token, super-block), as the dots of k_quants.cc: unsigned levels
// times signed activation bytes by vpmaddubsw (a pair is at most 2 * 63 * 128, never
// saturated), then the 16-bit sub-block scales applied and summed into int32 lanes by
// vpdpwssd. Offsets go through the activation's bsums: Q6_K's -32 is exact in the same sum
// (-32 * s_g * bsums_g starts the accumulator), Q4_K's min term has its own scale dmin and is
// summed apart. Bounds per super-block (|a| <= 127, |Q6_K scale| <= 128): level part
// <= 256 * 127 * 63 * 128, offset <= 32 * 128 * 256 * 127, together < 2^31.
//
// Float part: per row and group of 4 tokens, the 4 x 16 int32 lanes are folded into one
// vector, lane 4k + t holding a partial sum of token t (Reduce4), scaled there by
// d_w * d_a[t] and accumulated, so a row needs one float accumulator per 4 tokens. Only the
// float order differs from the reference (same bound as the vec_dots, see gemm_test.cc).
//
// Thread safety: pure over caller-owned memory.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/x86/avx512/gemm.h"
#include "kernels/x86/gemm_tiling.h"
#include "quant/blocks.h"
#include "quant/k_scale_packing.h"

namespace dsinfer::kernels::avx512 {

#include "kernels/x86/k_scales_body.inc"

namespace {

// Tokens per Reduce4 group; a tile of T tokens has Groups(T) groups, the last one padded
// with zeros.
constexpr int kGroup = 4;
constexpr int Groups(int tokens) { return (tokens + kGroup - 1) / kGroup; }

constexpr int kTileRows = 2;
constexpr int kTileTokens = 8;  // a multiple of kGroup

float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

// The int32 lanes of a, b, c, d folded so that lane 4k + t holds a partial sum of input t
// (each input's 16 lanes become 4 partials, one per 128-bit lane k).
__m512i Reduce4(__m512i a, __m512i b, __m512i c, __m512i d) {
  const __m512i ab = _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
  const __m512i cd = _mm512_add_epi32(_mm512_unpacklo_epi32(c, d), _mm512_unpackhi_epi32(c, d));
  return _mm512_add_epi32(_mm512_unpacklo_epi64(ab, cd), _mm512_unpackhi_epi64(ab, cd));
}

// The per-token sums of a vector in Reduce4's layout, [t0 t1 t2 t3].
__m128 TokenSums(__m512 v) {
  const __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  return _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
}

// Word indices for vpermw: 128-bit lane L of the result is eight copies of word first + L.
__m512i GroupScaleIndex(int first) {
  return _mm512_add_epi16(
      _mm512_set1_epi16(static_cast<int16_t>(first)),
      _mm512_inserti64x4(
          _mm512_castsi256_si512(_mm256_setr_epi16(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1)),
          _mm256_setr_epi16(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3), 1));
}

// Common tile state: weight rows of type WBlock, activation rows of Q8_K.
template <typename WBlock>
struct TileOperands : x86::GemmOperands {
  int64_t n_blocks() const { return n_in / kQK_K; }

  template <int R>
  void Rows(int64_t r0, const WBlock* (&wr)[R]) const {
    for (int r = 0; r < R; ++r) {
      wr[r] = reinterpret_cast<const WBlock*>(w + (r0 + r) * w_row_bytes);
    }
  }
  template <int T>
  void Tokens(int64_t t0, const BlockQ8_K* (&ar)[T]) const {
    for (int t = 0; t < T; ++t) {
      ar[t] = reinterpret_cast<const BlockQ8_K*>(act + (t0 + t) * act_row_bytes);
    }
  }
  // acc[r][g] in Reduce4's layout (tokens 4g .. 4g + 3) -> y for rows [r0, r0 + R), tokens
  // [t0, t0 + T).
  template <int R, int T>
  void Store(int64_t r0, int64_t t0, const __m512 (&acc)[R][Groups(T)]) const {
    for (int r = 0; r < R; ++r) {
      float sums[kGroup * Groups(T)];
      for (int g = 0; g < Groups(T); ++g) _mm_storeu_ps(sums + kGroup * g, TokenSums(acc[r][g]));
      for (int t = 0; t < T; ++t) y[(t0 + t) * ldy + r0 + r] = sums[t];
    }
  }
};

// [d_a[4g] .. d_a[4g + 3]] in every 128-bit lane (Reduce4's layout), zero for absent tokens.
template <int T>
__m512 ActScales(const BlockQ8_K* const (&ar)[T], int64_t b, int g) {
  float da[kGroup] = {};
  for (int t = kGroup * g; t < T && t < kGroup * (g + 1); ++t) da[t - kGroup * g] = ar[t][b].d;
  return _mm512_broadcast_f32x4(_mm_loadu_ps(da));
}

struct Q4_KTiles : TileOperands<BlockQ4_K> {
  // The 8 sub-block activation sums (dword k: sub-blocks 2k, 2k+1) of the tokens of group g,
  // token i of the group in 128-bit lane i, then permuted by `transpose` to Reduce4's layout.
  template <int T>
  static __m512i SubBlockSums(const BlockQ8_K* const (&ar)[T], int64_t b, int g,
                              __m512i transpose) {
    __m128i pairs[kGroup];
    for (int i = 0; i < kGroup; ++i) {
      const int t = kGroup * g + i;
      if (t < T) {
        const auto* bsums = reinterpret_cast<const __m128i*>(ar[t][b].bsums);
        pairs[i] = _mm_hadd_epi16(_mm_loadu_si128(bsums), _mm_loadu_si128(bsums + 1));
      } else {
        pairs[i] = _mm_setzero_si128();
      }
    }
    const __m256i lo = _mm256_inserti128_si256(_mm256_castsi128_si256(pairs[0]), pairs[1], 1);
    const __m256i hi = _mm256_inserti128_si256(_mm256_castsi128_si256(pairs[2]), pairs[3], 1);
    return _mm512_permutexvar_epi32(transpose,
                                    _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1));
  }

  template <int R, int T>
  void Tile(int64_t r0, int64_t t0) const {
    constexpr int kGroups = Groups(T);
    const BlockQ4_K* wr[R];
    const BlockQ8_K* ar[T];
    Rows<R>(r0, wr);
    Tokens<T>(t0, ar);
    const __m512i low_nibble = _mm512_set1_epi8(0x0F);
    // Dword k of group token t's sub-block sums (pairs 2k, 2k+1) -> dword 4k + t.
    const __m512i transpose =
        _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    // A row's mins are words 8..15 of its scales vector: dword 4 + k -> dwords 4k .. 4k + 3.
    const __m512i spread_mins = _mm512_setr_epi32(4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7);
    __m512 acc[R][kGroups];
    for (int r = 0; r < R; ++r) {
      for (int g = 0; g < kGroups; ++g) acc[r][g] = _mm512_setzero_ps();
    }
    for (int64_t b = 0; b < n_blocks(); ++b) {
      // The 8 sub-block activation sums of each token of group g, in Reduce4's layout.
      __m512i sub_sums[kGroups];
#pragma GCC unroll 2
      for (int g = 0; g < kGroups; ++g) sub_sums[g] = SubBlockSums<T>(ar, b, g, transpose);

      __m512i scales[R];
      __m512i sum[R][kGroup * kGroups];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        scales[r] = _mm512_zextsi256_si512(_mm256_cvtepu8_epi16(UnpackScalesMins(wr[r][b].scales)));
        for (int t = 0; t < kGroup * kGroups; ++t) sum[r][t] = _mm512_setzero_si512();
      }
#pragma GCC unroll 4
      for (int c = 0; c < kQK_K / 64; ++c) {
        // Chunk c: 32 bytes whose low nibbles are sub-block 2c and high nibbles 2c+1, laid
        // out as [low | high] to meet 64 consecutive activations.
        const __m512i index = _mm512_srli_epi16(GroupScaleIndex(4 * c), 1);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          const __m256i packed =
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wr[r][b].qs + 32 * c));
          const __m512i levels = _mm512_and_si512(
              _mm512_inserti64x4(_mm512_castsi256_si512(packed), _mm256_srli_epi16(packed, 4), 1),
              low_nibble);
          const __m512i group_scales = _mm512_permutexvar_epi16(index, scales[r]);
#pragma GCC unroll 8
          for (int t = 0; t < T; ++t) {
            const __m512i p =
                _mm512_maddubs_epi16(levels, _mm512_loadu_si512(ar[t][b].qs + 64 * c));
            sum[r][t] = _mm512_dpwssd_epi32(sum[r][t], p, group_scales);
          }
        }
      }
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const __m512i mins = _mm512_permutexvar_epi32(spread_mins, scales[r]);
        const __m512 dw = _mm512_set1_ps(HalfToFloat(wr[r][b].d));
        const __m512 dmin = _mm512_set1_ps(HalfToFloat(wr[r][b].dmin));
#pragma GCC unroll 2
        for (int g = 0; g < kGroups; ++g) {
          const __m512i* s = sum[r] + kGroup * g;
          const __m512i sumi = Reduce4(s[0], s[1], s[2], s[3]);
          const __m512i min_sums = _mm512_madd_epi16(sub_sums[g], mins);
          const __m512 part = _mm512_fnmadd_ps(dmin, _mm512_cvtepi32_ps(min_sums),
                                               _mm512_mul_ps(dw, _mm512_cvtepi32_ps(sumi)));
          acc[r][g] = _mm512_fmadd_ps(part, ActScales<T>(ar, b, g), acc[r][g]);
        }
      }
    }
    Store<R, T>(r0, t0, acc);
  }
};

struct Q6_KTiles : TileOperands<BlockQ6_K> {
  template <int R, int T>
  void Tile(int64_t r0, int64_t t0) const {
    constexpr int kGroups = Groups(T);
    const BlockQ6_K* wr[R];
    const BlockQ8_K* ar[T];
    Rows<R>(r0, wr);
    Tokens<T>(t0, ar);
    const __m512i low_nibble = _mm512_set1_epi8(0x0F);
    const __m512i top_bits = _mm512_set1_epi8(0x30);
    __m512 acc[R][kGroups];
    for (int r = 0; r < R; ++r) {
      for (int g = 0; g < kGroups; ++g) acc[r][g] = _mm512_setzero_ps();
    }
    for (int64_t b = 0; b < n_blocks(); ++b) {
      __m512i scales[R];
      __m512i sum[R][kGroup * kGroups];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        // The 16 group scales as int16 [s0..s15]; -32 * s fits int16 (|s| <= 128).
        const __m256i scales16 = _mm256_cvtepi8_epi16(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(wr[r][b].scales)));
        scales[r] = _mm512_castsi256_si512(scales16);
        const __m256i offset_scales =
            _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_slli_epi16(scales16, 5));
        // The -32 offset, -32 * sum_g s_g * bsums_g, starts each accumulator.
        for (int t = 0; t < kGroup * kGroups; ++t) {
          sum[r][t] =
              t < T ? _mm512_zextsi256_si512(_mm256_madd_epi16(
                          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ar[t][b].bsums)),
                          offset_scales))
                    : _mm512_setzero_si512();
        }
      }
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        // Half h: 64 ql bytes (quarters 0, 1 in the low nibbles, 2, 3 in the high ones) and
        // 32 qh bytes (bits 2s, 2s+1 for quarter s). [qh | qh >> 2] lines quarters 0 and 1
        // (then 2 and 3) up with [ql low 32 | ql high 32]; 16-bit shifts are fine, the masks
        // drop what crosses bytes.
#pragma GCC unroll 2
        for (int pair = 0; pair < 2; ++pair) {
          const __m512i index = GroupScaleIndex(8 * h + 4 * pair);
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r) {
            const __m512i ql = _mm512_loadu_si512(wr[r][b].ql + 64 * h);
            const __m256i qh =
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wr[r][b].qh + 32 * h));
            const __m512i qh2 =
                _mm512_inserti64x4(_mm512_castsi256_si512(qh), _mm256_srli_epi16(qh, 2), 1);
            const __m512i levels =
                pair == 0 ? _mm512_or_si512(_mm512_and_si512(ql, low_nibble),
                                            _mm512_and_si512(_mm512_slli_epi16(qh2, 4), top_bits))
                          : _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low_nibble),
                                            _mm512_and_si512(qh2, top_bits));
            const __m512i group_scales = _mm512_permutexvar_epi16(index, scales[r]);
#pragma GCC unroll 8
            for (int t = 0; t < T; ++t) {
              const __m512i p = _mm512_maddubs_epi16(
                  levels, _mm512_loadu_si512(ar[t][b].qs + 128 * h + 64 * pair));
              sum[r][t] = _mm512_dpwssd_epi32(sum[r][t], p, group_scales);
            }
          }
        }
      }
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const __m512 dw = _mm512_set1_ps(HalfToFloat(wr[r][b].d));
#pragma GCC unroll 2
        for (int g = 0; g < kGroups; ++g) {
          const __m512i* s = sum[r] + kGroup * g;
          const __m512i sumi = Reduce4(s[0], s[1], s[2], s[3]);
          acc[r][g] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi),
                                      _mm512_mul_ps(dw, ActScales<T>(ar, b, g)), acc[r][g]);
        }
      }
    }
    Store<R, T>(r0, t0, acc);
  }
};

}  // namespace

#include "kernels/x86/gemm_k_quants_body.inc"

}  // namespace dsinfer::kernels::avx512
