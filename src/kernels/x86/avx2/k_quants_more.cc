// AVX2 bodies of the remaining K-quant dots with Q8_K activations: Q2_K, Q3_K and Q5_K (Q4_K
// and Q6_K are in k_quants.cc, whose scheme these follow).
// The scale fields are unpacked by the shared x86/k_scales_body.inc.
//
// The weight levels are built as unsigned bytes (Q2_K 0..3, Q3_K 0..7 before its -4 offset,
// Q5_K 0..31), so vpmaddubsw multiplies them with the signed activation bytes directly (a pair
// is at most 2 * 31 * 128 < 32767: never saturated, even for a -128 activation), and vpmaddwd
// applies the 16-bit sub-block scales and sums into int32 lanes, exactly. Offsets go through
// the activation's bsums: the mins of Q2_K and Q5_K (dmin * min_j, as the reference does) and
// Q3_K's -4 (which relies on bsums matching qs, as every Q8_K quantiser guarantees). Per
// super-block the int32 lanes are scaled by d_x * d_y in float; only that float order differs
// from the reference. Integer ranges per super-block: |Q3_K sum| <= 256 * 32 * 7 * 128 and
// |Q5_K sum| <= 256 * 63 * 31 * 128, both < 2^31.
//
// Element e = 128h + 32s + l (l in 0..31) of a Q2_K / Q3_K super-block is quarter s of half h:
// bits 2s, 2s+1 of qs[32h + l], Q3_K's third bit in bit 4h + s of hmask[l]; its scale is
// e / 16, so the low 16 bytes of a quarter use scale 8h + 2s and the high 16 the next one.
//
// Thread safety: pure functions over caller-owned memory.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/x86/avx2/kernels.h"
#include "quant/blocks.h"
#include "quant/k_scale_packing.h"

namespace dsinfer::kernels::avx2 {
namespace {

float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

float HorizontalSum(__m256 v) {
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

float HorizontalSum(__m128 v) {
  const __m128 s2 = _mm_add_ps(v, _mm_movehl_ps(v, v));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

__m256i Load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
__m128i Load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

// The 16-bit scale pair for sub-blocks (2k, 2k+1) of the 8 held in `scales8` (both 128-bit
// lanes equal): scale 2k in every word of the low lane, 2k+1 in the high one, matching the
// vpmaddubsw layout of 32 consecutive elements.
template <int kPair>
__m256i ScalePair(__m256i scales8) {
  constexpr char kLo = 4 * kPair;
  constexpr char kHi = 4 * kPair + 2;
  const __m256i control = _mm256_setr_epi8(kLo, kLo + 1, kLo, kLo + 1, kLo, kLo + 1, kLo, kLo + 1,
                                           kLo, kLo + 1, kLo, kLo + 1, kLo, kLo + 1, kLo, kLo + 1,
                                           kHi, kHi + 1, kHi, kHi + 1, kHi, kHi + 1, kHi, kHi + 1,
                                           kHi, kHi + 1, kHi, kHi + 1, kHi, kHi + 1, kHi, kHi + 1);
  return _mm256_shuffle_epi8(scales8, control);
}

// The int32 lane sums over one half (128 elements) of sum_e scale_g(e) * level_e * y_e, given
// the four quarters' unsigned levels and the half's eight scales in both 128-bit lanes.
__m256i HalfSums(const __m256i q[4], const int8_t* q8, __m256i scales8) {
  const __m256i s0 =
      _mm256_madd_epi16(_mm256_maddubs_epi16(q[0], Load256(q8)), ScalePair<0>(scales8));
  const __m256i s1 =
      _mm256_madd_epi16(_mm256_maddubs_epi16(q[1], Load256(q8 + 32)), ScalePair<1>(scales8));
  const __m256i s2 =
      _mm256_madd_epi16(_mm256_maddubs_epi16(q[2], Load256(q8 + 64)), ScalePair<2>(scales8));
  const __m256i s3 =
      _mm256_madd_epi16(_mm256_maddubs_epi16(q[3], Load256(q8 + 96)), ScalePair<3>(scales8));
  return _mm256_add_epi32(_mm256_add_epi32(s0, s1), _mm256_add_epi32(s2, s3));
}

// The 2-bit fields of the four quarters of a half: bits 2s, 2s+1 of each byte (16-bit shifts
// are fine, the mask drops what crosses a byte).
void TwoBitQuarters(__m256i packed, __m256i q[4]) {
  const __m256i mask = _mm256_set1_epi8(3);
  q[0] = _mm256_and_si256(packed, mask);
  q[1] = _mm256_and_si256(_mm256_srli_epi16(packed, 2), mask);
  q[2] = _mm256_and_si256(_mm256_srli_epi16(packed, 4), mask);
  q[3] = _mm256_and_si256(_mm256_srli_epi16(packed, 6), mask);
}

// The 16 scales of a super-block as int16 [s0..s15]; the eight of half h in both lanes.
__m256i HalfScales(__m256i scales16, int64_t h) {
  return h == 0 ? _mm256_permute2x128_si256(scales16, scales16, 0x00)
                : _mm256_permute2x128_si256(scales16, scales16, 0x11);
}

}  // namespace

#include "kernels/x86/k_scales_body.inc"

float DotQ2_K(int64_t n, const void* w, const void* q8_k) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(q8_k);
  const __m128i low_nibble = _mm_set1_epi8(0x0F);
  __m256 acc = _mm256_setzero_ps();
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

    __m256i sumi = _mm256_setzero_si256();
    for (int64_t h = 0; h < 2; ++h) {
      __m256i q[4];
      TwoBitQuarters(Load256(x[i].qs + 32 * h), q);
      sumi = _mm256_add_epi32(sumi, HalfSums(q, y[i].qs + 128 * h, HalfScales(scales16, h)));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(dall), _mm256_cvtepi32_ps(sumi), acc);
  }
  return HorizontalSum(acc) - HorizontalSum(acc_min);
}

float DotQ3_K(int64_t n, const void* w, const void* q8_k) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(q8_k);
  const __m256i bit2 = _mm256_set1_epi8(4);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = HalfToFloat(x[i].d) * y[i].d;
    const __m256i scales16 = _mm256_cvtepi8_epi16(Q3Scales(x[i].scales));
    // The -4 offset: sum_g s_g * 4 * bsums_g.
    const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(Load256(y[i].bsums), scales16), 2);
    const __m256i hmask = Load256(x[i].hmask);
    __m256i sumi = _mm256_setzero_si256();
    for (int64_t h = 0; h < 2; ++h) {
      __m256i q[4];
      TwoBitQuarters(Load256(x[i].qs + 32 * h), q);
      // Bits 4h..4h+3 of hmask (the half's quarters) down to bits 0..3, then bit s to bit 2.
      const __m256i hbits = h == 0 ? hmask : _mm256_srli_epi16(hmask, 4);
      q[0] = _mm256_or_si256(q[0], _mm256_and_si256(_mm256_slli_epi16(hbits, 2), bit2));
      q[1] = _mm256_or_si256(q[1], _mm256_and_si256(_mm256_slli_epi16(hbits, 1), bit2));
      q[2] = _mm256_or_si256(q[2], _mm256_and_si256(hbits, bit2));
      q[3] = _mm256_or_si256(q[3], _mm256_and_si256(_mm256_srli_epi16(hbits, 1), bit2));
      sumi = _mm256_add_epi32(sumi, HalfSums(q, y[i].qs + 128 * h, HalfScales(scales16, h)));
    }
    sumi = _mm256_sub_epi32(sumi, offset);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return HorizontalSum(acc);
}

float DotQ5_K(int64_t n, const void* w, const void* q8_k) {
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(q8_k);
  const __m256i low_nibble = _mm256_set1_epi8(0x0F);
  const __m256i bit4 = _mm256_set1_epi8(0x10);
  __m256 acc = _mm256_setzero_ps();
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

    int16_t scales[16];
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(scales), scales_mins);
    // Chunk c: 32 bytes whose low nibbles are sub-block 2c and high nibbles 2c+1; their bit 4
    // is bit 2c (2c+1) of qh[l], brought down to bits 0 (1) by shifting qh 2c places (16-bit
    // shifts: bits 0, 1 of each byte still come from that byte).
    __m256i hbits = Load256(x[i].qh);
    __m256i sum_even = _mm256_setzero_si256();
    __m256i sum_odd = _mm256_setzero_si256();
    for (int64_t c = 0; c < kQK_K / 64; ++c) {
      const __m256i packed = Load256(x[i].qs + 32 * c);
      const __m256i lo = _mm256_or_si256(_mm256_and_si256(packed, low_nibble),
                                         _mm256_and_si256(_mm256_slli_epi16(hbits, 4), bit4));
      const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(packed, 4), low_nibble),
                                         _mm256_and_si256(_mm256_slli_epi16(hbits, 3), bit4));
      hbits = _mm256_srli_epi16(hbits, 2);
      const __m256i p_lo = _mm256_maddubs_epi16(lo, Load256(y[i].qs + 64 * c));
      const __m256i p_hi = _mm256_maddubs_epi16(hi, Load256(y[i].qs + 64 * c + 32));
      sum_even =
          _mm256_add_epi32(sum_even, _mm256_madd_epi16(p_lo, _mm256_set1_epi16(scales[2 * c])));
      sum_odd =
          _mm256_add_epi32(sum_odd, _mm256_madd_epi16(p_hi, _mm256_set1_epi16(scales[2 * c + 1])));
    }
    const __m256i sumi = _mm256_add_epi32(sum_even, sum_odd);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return HorizontalSum(acc) - HorizontalSum(acc_min);
}

}  // namespace dsinfer::kernels::avx2
