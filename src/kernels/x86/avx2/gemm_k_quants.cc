// AVX2 gemm bodies of Q4_K and Q6_K weights with Q8_K activations (prefill, MoE expert
// batches): tiles of 2 weight rows x 4 tokens (8 int32 accumulators: with the levels, scales
// and products of one row that fills the 16 ymm registers). Each weight super-block is
// unpacked (nibbles, 6-bit scales, Q6_K's high bits) once per tile and serves 4 tokens; each
// activation super-block serves 2 rows. (Measured: 1 x 8 and 2 x 8 tiles are slower.)
// The entry points are the shared x86/gemm_k_quants_body.inc, the scale unpacking
// x86/k_scales_body.inc.
//
// Integer part, per (row, token, super-block), as the dots of k_quants.cc: unsigned levels
// times signed activation bytes by vpmaddubsw (a pair is at most 2 * 63 * 128, never
// saturated), then vpmaddwd applies the 16-bit sub-block scales and sums into int32 lanes.
// Offsets go through the activation's bsums: Q6_K's -32 is exact in the same sum
// (-32 * s_g * bsums_g starts the accumulator), Q4_K's min term has its own scale dmin and is
// summed apart. Bounds per super-block (|a| <= 127, |Q6_K scale| <= 128): level part
// <= 256 * 127 * 63 * 128, offset <= 32 * 128 * 256 * 127, together < 2^31.
//
// Float part: per row and group of 4 tokens, the 4 x 8 int32 lanes are folded into one
// vector, lane 4k + t holding a partial sum of token t (Reduce4), scaled there by
// d_w * d_a[t] and accumulated, so a row needs one float accumulator per 4 tokens. Only the
// float order differs from the reference (same bound as the vec_dots, see gemm_test.cc).
//
// Thread safety: pure over caller-owned memory.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/x86/avx2/gemm.h"
#include "kernels/x86/gemm_tiling.h"
#include "quant/blocks.h"
#include "quant/k_scale_packing.h"

namespace dsinfer::kernels::avx2 {

#include "kernels/x86/k_scales_body.inc"

namespace {

// Tokens per Reduce4 group; a tile of T tokens has Groups(T) groups, the last one padded
// with zeros.
constexpr int kGroup = 4;
constexpr int Groups(int tokens) { return (tokens + kGroup - 1) / kGroup; }

constexpr int kTileRows = 2;
constexpr int kTileTokens = 4;  // a multiple of kGroup

float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

__m256i Load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// The int32 lanes of a, b, c, d folded so that lane 4k + t holds a partial sum of input t
// (each input's 8 lanes become 2 partials, one per 128-bit lane k).
__m256i Reduce4(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_add_epi32(_mm256_unpacklo_epi32(a, b), _mm256_unpackhi_epi32(a, b));
  const __m256i cd = _mm256_add_epi32(_mm256_unpacklo_epi32(c, d), _mm256_unpackhi_epi32(c, d));
  return _mm256_add_epi32(_mm256_unpacklo_epi64(ab, cd), _mm256_unpackhi_epi64(ab, cd));
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
  void Store(int64_t r0, int64_t t0, const __m256 (&acc)[R][Groups(T)]) const {
    for (int r = 0; r < R; ++r) {
      float sums[kGroup * Groups(T)];
      for (int g = 0; g < Groups(T); ++g) {
        _mm_storeu_ps(sums + kGroup * g, _mm_add_ps(_mm256_castps256_ps128(acc[r][g]),
                                                    _mm256_extractf128_ps(acc[r][g], 1)));
      }
      for (int t = 0; t < T; ++t) y[(t0 + t) * ldy + r0 + r] = sums[t];
    }
  }
};

// [d_a[4g] .. d_a[4g + 3]] in both 128-bit lanes (Reduce4's layout), zero for absent tokens.
template <int T>
__m256 ActScales(const BlockQ8_K* const (&ar)[T], int64_t b, int g) {
  float da[kGroup] = {};
  for (int t = kGroup * g; t < T && t < kGroup * (g + 1); ++t) da[t - kGroup * g] = ar[t][b].d;
  const __m128 v = _mm_loadu_ps(da);
  return _mm256_set_m128(v, v);
}

// vpshufb control that broadcasts word `word` (0..7) of each 128-bit lane.
__m256i WordBroadcast(int word) {
  const auto lo = static_cast<char>(2 * word);
  const auto hi = static_cast<char>(2 * word + 1);
  const __m128i control =
      _mm_setr_epi8(lo, hi, lo, hi, lo, hi, lo, hi, lo, hi, lo, hi, lo, hi, lo, hi);
  return _mm256_set_m128i(control, control);
}

struct Q4_KTiles : TileOperands<BlockQ4_K> {
  // The 8 sub-block activation sums (dword k: sub-blocks 2k, 2k+1) of the tokens of group
  // g, transposed to Reduce4's layout: dword 4k + t of [0] is token t's dword k, of [1] its
  // dword 2 + k.
  template <int T>
  static void SubBlockSums(const BlockQ8_K* const (&ar)[T], int64_t b, int g,
                           __m256i (&sub_sums)[2]) {
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
    const __m128i p01_lo = _mm_unpacklo_epi32(pairs[0], pairs[1]);
    const __m128i p01_hi = _mm_unpackhi_epi32(pairs[0], pairs[1]);
    const __m128i p23_lo = _mm_unpacklo_epi32(pairs[2], pairs[3]);
    const __m128i p23_hi = _mm_unpackhi_epi32(pairs[2], pairs[3]);
    sub_sums[0] =
        _mm256_set_m128i(_mm_unpackhi_epi64(p01_lo, p23_lo), _mm_unpacklo_epi64(p01_lo, p23_lo));
    sub_sums[1] =
        _mm256_set_m128i(_mm_unpackhi_epi64(p01_hi, p23_hi), _mm_unpacklo_epi64(p01_hi, p23_hi));
  }

  template <int R, int T>
  void Tile(int64_t r0, int64_t t0) const {
    constexpr int kGroups = Groups(T);
    const BlockQ4_K* wr[R];
    const BlockQ8_K* ar[T];
    Rows<R>(r0, wr);
    Tokens<T>(t0, ar);
    const __m256i low_nibble = _mm256_set1_epi8(0x0F);
    __m256 acc[R][kGroups];
    for (int r = 0; r < R; ++r) {
      for (int g = 0; g < kGroups; ++g) acc[r][g] = _mm256_setzero_ps();
    }
    for (int64_t b = 0; b < n_blocks(); ++b) {
      // Per row: words 0..7 the scales, 8..15 the mins; `scales` the scales in both lanes.
      __m256i scales_mins[R];
      __m256i scales[R];
      __m256i sum[R][kGroup * kGroups];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        scales_mins[r] = _mm256_cvtepu8_epi16(UnpackScalesMins(wr[r][b].scales));
        scales[r] = _mm256_permute2x128_si256(scales_mins[r], scales_mins[r], 0x00);
        for (int t = 0; t < kGroup * kGroups; ++t) sum[r][t] = _mm256_setzero_si256();
      }
#pragma GCC unroll 4
      for (int c = 0; c < kQK_K / 64; ++c) {
        // Chunk c: 32 bytes whose low nibbles are sub-block 2c and high nibbles 2c+1.
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          const __m256i packed = Load256(wr[r][b].qs + 32 * c);
          const __m256i lo = _mm256_and_si256(packed, low_nibble);
          const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low_nibble);
          const __m256i even_scale = _mm256_shuffle_epi8(scales[r], WordBroadcast(2 * c));
          const __m256i odd_scale = _mm256_shuffle_epi8(scales[r], WordBroadcast(2 * c + 1));
#pragma GCC unroll 8
          for (int t = 0; t < T; ++t) {
            const int8_t* q8 = ar[t][b].qs + 64 * c;
            const __m256i p_lo = _mm256_maddubs_epi16(lo, Load256(q8));
            const __m256i p_hi = _mm256_maddubs_epi16(hi, Load256(q8 + 32));
            sum[r][t] =
                _mm256_add_epi32(sum[r][t], _mm256_add_epi32(_mm256_madd_epi16(p_lo, even_scale),
                                                             _mm256_madd_epi16(p_hi, odd_scale)));
          }
        }
      }
#pragma GCC unroll 2
      for (int g = 0; g < kGroups; ++g) {
        __m256i sub_sums[2];
        SubBlockSums<T>(ar, b, g, sub_sums);
        const __m256 da = ActScales<T>(ar, b, g);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          const __m256i* s = sum[r] + kGroup * g;
          const __m256i sumi = Reduce4(s[0], s[1], s[2], s[3]);
          // The mins are dwords 4..7 of scales_mins[r]; dword 4 + k meets sub_sums' dword k.
          const __m256i mins_lo = _mm256_permutevar8x32_epi32(
              scales_mins[r], _mm256_setr_epi32(4, 4, 4, 4, 5, 5, 5, 5));
          const __m256i mins_hi = _mm256_permutevar8x32_epi32(
              scales_mins[r], _mm256_setr_epi32(6, 6, 6, 6, 7, 7, 7, 7));
          const __m256i min_sums = _mm256_add_epi32(_mm256_madd_epi16(sub_sums[0], mins_lo),
                                                    _mm256_madd_epi16(sub_sums[1], mins_hi));
          const __m256 part = _mm256_fnmadd_ps(
              _mm256_set1_ps(HalfToFloat(wr[r][b].dmin)), _mm256_cvtepi32_ps(min_sums),
              _mm256_mul_ps(_mm256_set1_ps(HalfToFloat(wr[r][b].d)), _mm256_cvtepi32_ps(sumi)));
          acc[r][g] = _mm256_fmadd_ps(part, da, acc[r][g]);
        }
      }
    }
    Store<R, T>(r0, t0, acc);
  }
};

// Quarter s (0..3) of half h of a Q6_K super-block: 32 unsigned levels 0..63, the low four
// bits from ql (quarters 0, 1: low nibbles of ql[0..31], ql[32..63]; 2, 3: their high
// nibbles), the top two from bits 2s, 2s+1 of qh, moved to bits 4, 5 (16-bit shifts: the
// masks drop what crosses bytes).
template <int kQuarter>
__m256i Q6Levels(const uint8_t* ql, const uint8_t* qh) {
  const __m256i low = Load256(ql + (kQuarter % 2 == 0 ? 0 : 32));
  const __m256i high = Load256(qh);
  const __m256i low4 = kQuarter < 2 ? low : _mm256_srli_epi16(low, 4);
  const __m256i high2 = kQuarter == 0   ? _mm256_slli_epi16(high, 4)
                        : kQuarter == 1 ? _mm256_slli_epi16(high, 2)
                        : kQuarter == 2 ? high
                                        : _mm256_srli_epi16(high, 2);
  return _mm256_or_si256(_mm256_and_si256(low4, _mm256_set1_epi8(0x0F)),
                         _mm256_and_si256(high2, _mm256_set1_epi8(0x30)));
}

// vpshufb control for quarter s of a half whose 8 group scales (int16) fill both 128-bit
// lanes: group 2s in every word of the low lane, 2s+1 in the high one, matching the layout
// of 32 consecutive elements.
template <int kQuarter>
__m256i QuarterScaleControl() {
  constexpr char kLo = 4 * kQuarter;
  constexpr char kHi = 4 * kQuarter + 2;
  return _mm256_setr_epi8(kLo, kLo + 1, kLo, kLo + 1, kLo, kLo + 1, kLo, kLo + 1, kLo, kLo + 1, kLo,
                          kLo + 1, kLo, kLo + 1, kLo, kLo + 1, kHi, kHi + 1, kHi, kHi + 1, kHi,
                          kHi + 1, kHi, kHi + 1, kHi, kHi + 1, kHi, kHi + 1, kHi, kHi + 1, kHi,
                          kHi + 1);
}

struct Q6_KTiles : TileOperands<BlockQ6_K> {
  // Adds quarter kQuarter of half h of super-block b to sum, for every row and token.
  template <int kQuarter, int R, int T>
  static void AddQuarter(int h, int64_t b, const BlockQ6_K* const (&wr)[R],
                         const BlockQ8_K* const (&ar)[T], const __m256i (&half_scales)[R],
                         __m256i (&sum)[R][kGroup * Groups(T)]) {
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m256i levels = Q6Levels<kQuarter>(wr[r][b].ql + 64 * h, wr[r][b].qh + 32 * h);
      const __m256i scales = _mm256_shuffle_epi8(half_scales[r], QuarterScaleControl<kQuarter>());
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const __m256i p =
            _mm256_maddubs_epi16(levels, Load256(ar[t][b].qs + 128 * h + 32 * kQuarter));
        sum[r][t] = _mm256_add_epi32(sum[r][t], _mm256_madd_epi16(p, scales));
      }
    }
  }

  template <int R, int T>
  void Tile(int64_t r0, int64_t t0) const {
    constexpr int kGroups = Groups(T);
    const BlockQ6_K* wr[R];
    const BlockQ8_K* ar[T];
    Rows<R>(r0, wr);
    Tokens<T>(t0, ar);
    __m256 acc[R][kGroups];
    for (int r = 0; r < R; ++r) {
      for (int g = 0; g < kGroups; ++g) acc[r][g] = _mm256_setzero_ps();
    }
    for (int64_t b = 0; b < n_blocks(); ++b) {
      __m256i scales16[R];  // the 16 group scales as int16 [s0..s7 | s8..s15]
      __m256i sum[R][kGroup * kGroups];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        scales16[r] = _mm256_cvtepi8_epi16(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(wr[r][b].scales)));
        // The -32 offset, -32 * sum_g s_g * bsums_g, starts each accumulator; -32 * s fits
        // int16 (|s| <= 128).
        const __m256i offset_scales =
            _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_slli_epi16(scales16[r], 5));
        for (int t = 0; t < kGroup * kGroups; ++t) {
          sum[r][t] = t < T ? _mm256_madd_epi16(Load256(ar[t][b].bsums), offset_scales)
                            : _mm256_setzero_si256();
        }
      }
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        __m256i half_scales[R];  // scales 8h .. 8h + 7 in both lanes
        for (int r = 0; r < R; ++r) {
          half_scales[r] = h == 0 ? _mm256_permute2x128_si256(scales16[r], scales16[r], 0x00)
                                  : _mm256_permute2x128_si256(scales16[r], scales16[r], 0x11);
        }
        AddQuarter<0>(h, b, wr, ar, half_scales, sum);
        AddQuarter<1>(h, b, wr, ar, half_scales, sum);
        AddQuarter<2>(h, b, wr, ar, half_scales, sum);
        AddQuarter<3>(h, b, wr, ar, half_scales, sum);
      }
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const __m256 dw = _mm256_set1_ps(HalfToFloat(wr[r][b].d));
#pragma GCC unroll 2
        for (int g = 0; g < kGroups; ++g) {
          const __m256i* s = sum[r] + kGroup * g;
          const __m256i sumi = Reduce4(s[0], s[1], s[2], s[3]);
          acc[r][g] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi),
                                      _mm256_mul_ps(dw, ActScales<T>(ar, b, g)), acc[r][g]);
        }
      }
    }
    Store<R, T>(r0, t0, acc);
  }
};

}  // namespace

#include "kernels/x86/gemm_k_quants_body.inc"

}  // namespace dsinfer::kernels::avx2
