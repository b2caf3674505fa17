// AVX2 bodies of the K-quant decode path: the Q8_K activation quantiser and the Q4_K / Q6_K
// dots with Q8_K activations (the types of a Q4_K_M file's big matrices).
// The scale fields are unpacked by the shared x86/k_scales_body.inc.
//
// Dots: the weight levels are unsigned bytes (Q4_K 0..15, Q6_K 0..63 before its -32 offset),
// so vpmaddubsw multiplies them with the signed activation bytes directly; a pair sum is at
// most 2 * 63 * 128 < 32767, so it never saturates, even for a -128 activation. vpmaddwd then
// applies the 16-bit sub-block scales and sums into int32 lanes, exactly. Offsets go through
// the activation's bsums (Q4_K: dmin * min_j, Q6_K: 32), as in the reference for Q4_K; for
// Q6_K that relies on bsums matching qs, which every Q8_K quantiser guarantees. Per
// super-block the int32 lanes are scaled by d_x * d_y in float; only that float order differs
// from the reference. Integer ranges per super-block: |Q6_K sum| <= 256 * 127 * 63 * 128 < 2^31.
#include <immintrin.h>

#include <bit>
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

float HorizontalMax(__m256 v) {
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  return _mm_cvtss_f32(_mm_max_ss(m4, _mm_movehdup_ps(m4)));
}

__m256i Load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// NearestInt (quant/rounding.h) for each lane, by the same float addition and bit extraction,
// so that the lanes equal the reference's ints for every input, non-finite ones included.
__m256i NearestInt(__m256 v) {
  const __m256 shifted = _mm256_add_ps(v, _mm256_set1_ps(12582912.0f));
  return _mm256_sub_epi32(
      _mm256_and_si256(_mm256_castps_si256(shifted), _mm256_set1_epi32(0x007fffff)),
      _mm256_set1_epi32(0x00400000));
}

}  // namespace

// Per super-block, as quant_ref::QuantizeQ8_K: max is the first element of largest magnitude
// (max_ps(|x|, acc) keeps acc for a NaN, as the reference's `ax > amax` skips it), then
// min(127, NearestInt(iscale * x)) truncated to a byte, then the 16-element group sums.
void QuantizeQ8_K(const float* x, void* blocks, int64_t n) {
  auto* y = static_cast<BlockQ8_K*>(blocks);
  constexpr int kVecs = kQK_K / 8;
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K, ++y) {
    __m256 amax8 = _mm256_setzero_ps();
    for (int64_t k = 0; k < kVecs; ++k) {
      amax8 = _mm256_max_ps(_mm256_andnot_ps(sign_bit, _mm256_loadu_ps(x + 8 * k)), amax8);
    }
    const float amax = HorizontalMax(amax8);
    if (amax == 0.0f) {
      *y = BlockQ8_K{};
      continue;
    }
    // The reference keeps the first element that reaches amax: its sign decides the scale's.
    const __m256 vamax = _mm256_set1_ps(amax);
    float max = amax;
    for (int64_t k = 0; k < kVecs; ++k) {
      const __m256 v = _mm256_loadu_ps(x + 8 * k);
      const int hits =
          _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign_bit, v), vamax, _CMP_EQ_OQ));
      if (hits != 0) {
        max = x[8 * k + std::countr_zero(static_cast<unsigned>(hits))];
        break;
      }
    }
    const float iscale = -127.0f / max;
    const __m256 viscale = _mm256_set1_ps(iscale);
    // Group partial sums: chunk c (32 elements, groups 2c and 2c+1) gives four int32 partials
    // of group 2c in its low 128-bit lane and four of group 2c+1 in the high one.
    __m256i partials[kQK_K / 32];
    for (int64_t c = 0; c < kQK_K / 32; ++c) {
      __m256i q[4];
      for (int64_t k = 0; k < 4; ++k) {
        const __m256 v = _mm256_loadu_ps(x + 32 * c + 8 * k);
        const __m256i r =
            _mm256_min_epi32(NearestInt(_mm256_mul_ps(viscale, v)), _mm256_set1_epi32(127));
        q[k] = _mm256_and_si256(r, _mm256_set1_epi32(0xFF));  // the int8 cast's truncation
      }
      // Unsigned packs of 0..255 never saturate; they work per 128-bit lane, so the bytes come
      // out as dwords 0,4,1,5,2,6,3,7 of the element order.
      const __m256i q8 =
          _mm256_packus_epi16(_mm256_packus_epi32(q[0], q[1]), _mm256_packus_epi32(q[2], q[3]));
      const __m256i ordered =
          _mm256_permutevar8x32_epi32(q8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y->qs + 32 * c), ordered);
      partials[c] = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), ordered),
                                      _mm256_set1_epi16(1));
    }
    // Two rounds of hadd turn the partials into group sums, low lanes [g0 g2 g4 g6], high
    // lanes [g1 g3 g5 g7] (and g8.. from chunks 4..7); |sum| <= 16 * 128 fits int16.
    const __m256i g0 = _mm256_hadd_epi32(_mm256_hadd_epi32(partials[0], partials[1]),
                                         _mm256_hadd_epi32(partials[2], partials[3]));
    const __m256i g1 = _mm256_hadd_epi32(_mm256_hadd_epi32(partials[4], partials[5]),
                                         _mm256_hadd_epi32(partials[6], partials[7]));
    const __m256i even_odd = _mm256_packs_epi32(g0, g1);  // [g0 g2 .. g14 | g1 g3 .. g15]
    const __m128i even = _mm256_castsi256_si128(even_odd);
    const __m128i odd = _mm256_extracti128_si256(even_odd, 1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y->bsums), _mm_unpacklo_epi16(even, odd));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y->bsums + 8), _mm_unpackhi_epi16(even, odd));
    y->d = 1 / iscale;
  }
}

#include "kernels/x86/k_scales_body.inc"

float DotQ4_K(int64_t n, const void* w, const void* q8_k) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(q8_k);
  const __m256i low_nibble = _mm256_set1_epi8(0x0F);
  __m256 acc = _mm256_setzero_ps();
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

    int16_t scales[16];
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(scales), scales_mins);
    // Chunk c: 32 bytes whose low nibbles are sub-block 2c and high nibbles sub-block 2c+1.
    __m256i sum_even = _mm256_setzero_si256();
    __m256i sum_odd = _mm256_setzero_si256();
    for (int64_t c = 0; c < kQK_K / 64; ++c) {
      const __m256i packed = Load256(x[i].qs + 32 * c);
      const __m256i lo = _mm256_and_si256(packed, low_nibble);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low_nibble);
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

namespace {

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

// The int32 lane sums over one half (128 elements) of a Q6_K super-block, of
// scale_g * level_e * y_e with the unsigned levels 0..63.
__m256i Q6HalfSums(const uint8_t* ql, const uint8_t* qh, const int8_t* q8, __m256i scales8) {
  const __m256i low_nibble = _mm256_set1_epi8(0x0F);
  const __m256i top_bits = _mm256_set1_epi8(0x30);
  const __m256i ql0 = Load256(ql);
  const __m256i ql1 = Load256(ql + 32);
  const __m256i hbits = Load256(qh);
  // Quarter s of the half: low four bits from ql (s = 0, 1 low nibbles; 2, 3 high), top two
  // from bits 2s, 2s+1 of qh, moved to bits 4, 5 (16-bit shifts: the mask drops what crosses).
  const __m256i q0 = _mm256_or_si256(_mm256_and_si256(ql0, low_nibble),
                                     _mm256_and_si256(_mm256_slli_epi16(hbits, 4), top_bits));
  const __m256i q1 = _mm256_or_si256(_mm256_and_si256(ql1, low_nibble),
                                     _mm256_and_si256(_mm256_slli_epi16(hbits, 2), top_bits));
  const __m256i q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low_nibble),
                                     _mm256_and_si256(hbits, top_bits));
  const __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low_nibble),
                                     _mm256_and_si256(_mm256_srli_epi16(hbits, 2), top_bits));
  const __m256i s0 =
      _mm256_madd_epi16(_mm256_maddubs_epi16(q0, Load256(q8)), ScalePair<0>(scales8));
  const __m256i s1 =
      _mm256_madd_epi16(_mm256_maddubs_epi16(q1, Load256(q8 + 32)), ScalePair<1>(scales8));
  const __m256i s2 =
      _mm256_madd_epi16(_mm256_maddubs_epi16(q2, Load256(q8 + 64)), ScalePair<2>(scales8));
  const __m256i s3 =
      _mm256_madd_epi16(_mm256_maddubs_epi16(q3, Load256(q8 + 96)), ScalePair<3>(scales8));
  return _mm256_add_epi32(_mm256_add_epi32(s0, s1), _mm256_add_epi32(s2, s3));
}

}  // namespace

float DotQ6_K(int64_t n, const void* w, const void* q8_k) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(q8_k);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = HalfToFloat(x[i].d) * y[i].d;
    // scales16: the 16 group scales as int16 [s0..s7 | s8..s15].
    const __m256i scales16 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales)));
    // The -32 offset: sum_g s_g * 32 * bsums_g.
    const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(Load256(y[i].bsums), scales16), 5);
    const __m256i half0 =
        Q6HalfSums(x[i].ql, x[i].qh, y[i].qs, _mm256_permute2x128_si256(scales16, scales16, 0x00));
    const __m256i half1 = Q6HalfSums(x[i].ql + 64, x[i].qh + 32, y[i].qs + 128,
                                     _mm256_permute2x128_si256(scales16, scales16, 0x11));
    const __m256i sumi = _mm256_sub_epi32(_mm256_add_epi32(half0, half1), offset);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return HorizontalSum(acc);
}

}  // namespace dsinfer::kernels::avx2
