// AVX-512 (BW + VNNI) bodies of the remaining K-quant dots with Q8_K activations: Q2_K, Q3_K
// and Q5_K (Q4_K and Q6_K are in k_quants.cc, whose scheme these follow).
// The scale fields are unpacked by the shared x86/k_scales_body.inc.
//
// The weight levels are built as unsigned bytes (Q2_K 0..3, Q3_K 0..7 before its -4 offset,
// Q5_K 0..31), 64 consecutive elements to a 512-bit register, and multiplied with the signed
// activation bytes by vpmaddubsw (a pair is at most 2 * 31 * 128, never saturated); one
// vpdpwssd (VNNI) then applies the 16-bit sub-block scales and sums into int32 lanes, exactly.
// Each 128-bit lane of a vpmaddubsw result covers 16 elements, so a vpermw spreads one scale
// per lane (Q2_K, Q3_K: one per 16-element group; Q5_K: one per 32-element sub-block).
// Offsets go through the activation's bsums: the mins of Q2_K and Q5_K (dmin * min_j, as the
// reference does) and Q3_K's -4 (relying on bsums matching qs, as every Q8_K quantiser
// guarantees). Per super-block the int32 lanes are scaled by d_x * d_y in float; only that
// float order differs from the reference.
//
// Element e = 128h + 32s + l (l in 0..31) of a Q2_K / Q3_K super-block is quarter s of half h:
// bits 2s, 2s+1 of qs[32h + l], Q3_K's third bit in bit 4h + s of hmask[l]. A register holds
// quarters (0, 1) or (2, 3) of a half: [qs >> 2s | qs >> 2s+2], groups 8h + 2s .. 8h + 2s + 3.
//
// Thread safety: pure functions over caller-owned memory.
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
__m128i Load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

// [lo | hi] as one 512-bit register.
__m512i Concat(__m256i lo, __m256i hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

// Word indices for vpermw: lane L (0..3) of the result is eight copies of word first + L.
__m512i GroupScaleIndex(int64_t first) {
  return _mm512_add_epi16(
      _mm512_set1_epi16(static_cast<int16_t>(first)),
      Concat(_mm256_setr_epi16(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
             _mm256_setr_epi16(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3)));
}

// The sum over one super-block of scale_g(e) * level_e * y_e for the 16-group formats (Q2_K,
// Q3_K): q[2h] holds quarters 0, 1 and q[2h + 1] quarters 2, 3 of half h, as unsigned levels;
// `scales` the 16 group scales as int16 in its low 256 bits. `sum` starts the first
// accumulator (an offset); two accumulators halve the vpdpwssd chain.
__m512i GroupSums(const __m512i q[4], const int8_t* q8, __m512i scales, __m512i sum) {
  __m512i other = _mm512_setzero_si512();
  for (int64_t k = 0; k < 4; ++k) {
    const __m512i p = _mm512_maddubs_epi16(q[k], _mm512_loadu_si512(q8 + 64 * k));
    const __m512i lane_scales = _mm512_permutexvar_epi16(GroupScaleIndex(4 * k), scales);
    if (k % 2 == 0) {
      sum = _mm512_dpwssd_epi32(sum, p, lane_scales);
    } else {
      other = _mm512_dpwssd_epi32(other, p, lane_scales);
    }
  }
  return _mm512_add_epi32(sum, other);
}

// The 2-bit fields of a half's 32 qs bytes: quarters (0, 1) and (2, 3), 16-bit shifts being
// fine as the mask drops what crosses a byte.
void TwoBitQuarters(__m256i packed, __m512i* q01, __m512i* q23) {
  const __m512i mask = _mm512_set1_epi8(3);
  *q01 = _mm512_and_si512(Concat(packed, _mm256_srli_epi16(packed, 2)), mask);
  *q23 = _mm512_and_si512(Concat(_mm256_srli_epi16(packed, 4), _mm256_srli_epi16(packed, 6)), mask);
}

}  // namespace

#include "kernels/x86/k_scales_body.inc"

float DotQ2_K(int64_t n, const void* w, const void* q8_k) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(q8_k);
  const __m128i low_nibble = _mm_set1_epi8(0x0F);
  __m512 acc = _mm512_setzero_ps();
  __m256 acc_min = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float dall = HalfToFloat(x[i].d) * y[i].d;
    const float dmin = HalfToFloat(x[i].dmin) * y[i].d;
    // Byte g of scales: scale g in the low nibble, min g in the high one.
    const __m128i packed = Load128(x[i].scales);
    const __m256i scales16 = _mm256_cvtepu8_epi16(_mm_and_si128(packed, low_nibble));
    const __m256i mins16 =
        _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), low_nibble));
    const __m256i min_sums = _mm256_madd_epi16(Load256(y[i].bsums), mins16);
    acc_min = _mm256_fmadd_ps(_mm256_set1_ps(dmin), _mm256_cvtepi32_ps(min_sums), acc_min);

    __m512i q[4];
    TwoBitQuarters(Load256(x[i].qs), &q[0], &q[1]);
    TwoBitQuarters(Load256(x[i].qs + 32), &q[2], &q[3]);
    const __m512i sumi =
        GroupSums(q, y[i].qs, _mm512_castsi256_si512(scales16), _mm512_setzero_si512());
    acc = _mm512_fmadd_ps(_mm512_set1_ps(dall), _mm512_cvtepi32_ps(sumi), acc);
  }
  const __m128 mins4 =
      _mm_add_ps(_mm256_castps256_ps128(acc_min), _mm256_extractf128_ps(acc_min, 1));
  return _mm512_reduce_add_ps(acc) - HorizontalSum(mins4);
}

float DotQ3_K(int64_t n, const void* w, const void* q8_k) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(q8_k);
  const __m512i bit2 = _mm512_set1_epi8(4);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = HalfToFloat(x[i].d) * y[i].d;
    const __m256i scales16 = _mm256_cvtepi8_epi16(Q3Scales(x[i].scales));
    // The -4 offset, sum_g s_g * 4 * bsums_g, starts the sum negated.
    const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(Load256(y[i].bsums), scales16), 2);
    const __m256i hmask = Load256(x[i].hmask);
    __m512i q[4];
    for (int64_t h = 0; h < 2; ++h) {
      TwoBitQuarters(Load256(x[i].qs + 32 * h), &q[2 * h], &q[2 * h + 1]);
      // Bits 4h..4h+3 of hmask down to bits 0..3, then [bits | bits >> 1]: bit 0 is quarter
      // 0 (1) in the low (high) half of the register and bit 2 quarter 2 (3).
      const __m256i hbits = h == 0 ? hmask : _mm256_srli_epi16(hmask, 4);
      const __m512i hbits2 = Concat(hbits, _mm256_srli_epi16(hbits, 1));
      q[2 * h] = _mm512_or_si512(q[2 * h], _mm512_and_si512(_mm512_slli_epi16(hbits2, 2), bit2));
      q[2 * h + 1] = _mm512_or_si512(q[2 * h + 1], _mm512_and_si512(hbits2, bit2));
    }
    const __m512i sumi =
        GroupSums(q, y[i].qs, _mm512_castsi256_si512(scales16),
                  _mm512_zextsi256_si512(_mm256_sub_epi32(_mm256_setzero_si256(), offset)));
    acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi), acc);
  }
  return _mm512_reduce_add_ps(acc);
}

float DotQ5_K(int64_t n, const void* w, const void* q8_k) {
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(q8_k);
  const __m512i low_nibble = _mm512_set1_epi8(0x0F);
  const __m512i bit4 = _mm512_set1_epi8(0x10);
  __m512 acc = _mm512_setzero_ps();
  __m128 acc_min = _mm_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = HalfToFloat(x[i].d) * y[i].d;
    const float dmin = HalfToFloat(x[i].dmin) * y[i].d;
    const __m256i scales_mins = _mm256_cvtepu8_epi16(UnpackScalesMins(x[i].scales));
    // Min term: sub-block j's activation sum is bsums[2j] + bsums[2j+1].
    const __m128i bsums_lo = Load128(y[i].bsums);
    const __m128i bsums_hi = Load128(y[i].bsums + 8);
    const __m128i mins = _mm256_extracti128_si256(scales_mins, 1);
    const __m128i min_sums = _mm_madd_epi16(_mm_hadd_epi16(bsums_lo, bsums_hi), mins);
    acc_min = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(min_sums), acc_min);

    // Chunk c: 32 bytes whose low nibbles are sub-block 2c and high nibbles 2c+1, laid out as
    // [low | high] to meet 64 consecutive activations. Their bit 4 is bit 2c (2c+1) of qh[l]:
    // [qh | qh >> 1] shifted 2c places has it in bit 0 of every byte (16-bit shifts: bit 0
    // still comes from the same byte).
    const __m256i qh = Load256(x[i].qh);
    __m512i hbits = Concat(qh, _mm256_srli_epi16(qh, 1));
    const __m512i scales = _mm512_castsi256_si512(scales_mins);
    __m512i sum[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
    for (int64_t c = 0; c < kQK_K / 64; ++c) {
      const __m256i packed = Load256(x[i].qs + 32 * c);
      const __m512i levels = _mm512_or_si512(
          _mm512_and_si512(Concat(packed, _mm256_srli_epi16(packed, 4)), low_nibble),
          _mm512_and_si512(_mm512_slli_epi16(hbits, 4), bit4));
      hbits = _mm512_srli_epi16(hbits, 2);
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

}  // namespace dsinfer::kernels::avx512
