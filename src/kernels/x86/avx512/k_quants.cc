// AVX-512 (BW + VNNI) bodies of the K-quant dots with Q8_K activations: Q4_K and Q6_K. The
// Q8_K quantiser is the avx2 one, inherited by this level's table.
// The scale fields are unpacked by the shared x86/k_scales_body.inc.
//
// As in x86/avx2/k_quants.cc: unsigned weight levels times signed activation bytes by
// vpmaddubsw (a pair is at most 2 * 63 * 128, never saturated), then the 16-bit sub-block
// scales applied and summed into int32 lanes, here by one vpdpwssd (VNNI) instead of
// vpmaddwd + vpaddd; offsets go through bsums. 512-bit registers hold 64 consecutive
// elements, so each 128-bit lane of a vpmaddubsw result is one 16-element group and a
// vpermw spreads the matching scales. Per super-block the int32 lanes are scaled by
// d_x * d_y in float; only that float order differs from the reference.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/x86/avx512/kernels.h"
#include "quant/blocks.h"
#include "quant/k_scale_packing.h"

namespace dsinfer::kernels::avx512 {
namespace {

float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

float HorizontalSum(__m128 v) {
  const __m128 s2 = _mm_add_ps(v, _mm_movehl_ps(v, v));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

__m256i Load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// Word indices for vpermw: lane L (0..3) of the result is eight copies of word first + L.
__m512i GroupScaleIndex(int64_t first) {
  return _mm512_add_epi16(
      _mm512_set1_epi16(static_cast<int16_t>(first)),
      _mm512_inserti64x4(
          _mm512_castsi256_si512(_mm256_setr_epi16(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1)),
          _mm256_setr_epi16(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3), 1));
}

}  // namespace

#include "kernels/x86/k_scales_body.inc"

float DotQ4_K(int64_t n, const void* w, const void* q8_k) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(q8_k);
  const __m512i low_nibble = _mm512_set1_epi8(0x0F);
  __m512 acc = _mm512_setzero_ps();
  __m128 acc_min = _mm_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = HalfToFloat(x[i].d) * y[i].d;
    const float dmin = HalfToFloat(x[i].dmin) * y[i].d;
    const __m256i scales_mins = _mm256_cvtepu8_epi16(UnpackScalesMins(x[i].scales));
    // Min term: sub-block j's activation sum is bsums[2j] + bsums[2j+1].
    const __m128i bsums_lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(y[i].bsums));
    const __m128i bsums_hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(y[i].bsums + 8));
    const __m128i mins = _mm256_extracti128_si256(scales_mins, 1);
    const __m128i min_sums = _mm_madd_epi16(_mm_hadd_epi16(bsums_lo, bsums_hi), mins);
    acc_min = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(min_sums), acc_min);

    // Chunk c: 32 bytes whose low nibbles are sub-block 2c and high nibbles 2c+1, laid out
    // as [low | high] to meet 64 consecutive activations. Two accumulators halve the chain.
    const __m512i scales = _mm512_castsi256_si512(scales_mins);
    __m512i sum[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
    for (int64_t c = 0; c < kQK_K / 64; ++c) {
      const __m256i packed = Load256(x[i].qs + 32 * c);
      const __m512i levels = _mm512_and_si512(
          _mm512_inserti64x4(_mm512_castsi256_si512(packed), _mm256_srli_epi16(packed, 4), 1),
          low_nibble);
      const __m512i p = _mm512_maddubs_epi16(levels, _mm512_loadu_si512(y[i].qs + 64 * c));
      // Groups 4c..4c+3 of 16 belong to sub-blocks 2c, 2c, 2c+1, 2c+1.
      const __m512i index = _mm512_srli_epi16(GroupScaleIndex(4 * c), 1);
      sum[c % 2] = _mm512_dpwssd_epi32(sum[c % 2], p, _mm512_permutexvar_epi16(index, scales));
    }
    const __m512i sumi = _mm512_add_epi32(sum[0], sum[1]);
    acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi), acc);
  }
  return _mm512_reduce_add_ps(acc) - HorizontalSum(acc_min);
}

float DotQ6_K(int64_t n, const void* w, const void* q8_k) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(q8_k);
  const __m512i low_nibble = _mm512_set1_epi8(0x0F);
  const __m512i top_bits = _mm512_set1_epi8(0x30);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = HalfToFloat(x[i].d) * y[i].d;
    // The 16 group scales as int16 [s0..s15].
    const __m256i scales16 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales)));
    const __m512i scales = _mm512_castsi256_si512(scales16);
    // The -32 offset, sum_g s_g * 32 * bsums_g, starts the first accumulator negated.
    const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(Load256(y[i].bsums), scales16), 5);
    __m512i sum[2] = {_mm512_zextsi256_si512(_mm256_sub_epi32(_mm256_setzero_si256(), offset)),
                      _mm512_setzero_si512()};
    for (int64_t h = 0; h < 2; ++h) {
      // Half h: 64 ql bytes (quarters 0, 1 in the low nibbles, 2, 3 in the high ones) and 32
      // qh bytes (bits 2s, 2s+1 for quarter s). [qh | qh >> 2] lines quarters 0 and 1 (then 2
      // and 3) up with [ql low 32 | ql high 32]; 16-bit shifts are fine, masks drop spill-over.
      const __m512i ql = _mm512_loadu_si512(x[i].ql + 64 * h);
      const __m256i qh = Load256(x[i].qh + 32 * h);
      const __m512i qh2 =
          _mm512_inserti64x4(_mm512_castsi256_si512(qh), _mm256_srli_epi16(qh, 2), 1);
      const __m512i q01 = _mm512_or_si512(_mm512_and_si512(ql, low_nibble),
                                          _mm512_and_si512(_mm512_slli_epi16(qh2, 4), top_bits));
      const __m512i q23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low_nibble),
                                          _mm512_and_si512(qh2, top_bits));
      const int8_t* q8 = y[i].qs + 128 * h;
      const __m512i p01 = _mm512_maddubs_epi16(q01, _mm512_loadu_si512(q8));
      const __m512i p23 = _mm512_maddubs_epi16(q23, _mm512_loadu_si512(q8 + 64));
      sum[0] = _mm512_dpwssd_epi32(sum[0], p01,
                                   _mm512_permutexvar_epi16(GroupScaleIndex(8 * h), scales));
      sum[1] = _mm512_dpwssd_epi32(sum[1], p23,
                                   _mm512_permutexvar_epi16(GroupScaleIndex(8 * h + 4), scales));
    }
    const __m512i sumi = _mm512_add_epi32(sum[0], sum[1]);
    acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi), acc);
  }
  return _mm512_reduce_add_ps(acc);
}

}  // namespace dsinfer::kernels::avx512
