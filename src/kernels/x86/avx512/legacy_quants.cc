// AVX-512 (VNNI) bodies of the 32-element formats: the Q8_0 and Q8_1 activation quantisers and the
// Q8_0 / Q4_0 dots with Q8_0 activations.
//
// Dots: per block, the 32 int8 x int8 products are summed exactly in int32 by one 256-bit
// vpdpbusd (AVX512-VNNI + VL) with the sign trick: |x| as unsigned bytes times y carrying x's
// sign. Measured on this Zen 4 EPYC, 256-bit blocks beat two blocks per 512-bit register (the
// inserts and the broadcast pairs cost more than the halved dpbusd count saves). The sums are
// then scaled by d_x * d_y and accumulated in float lanes; only that order differs from the
// reference. Limit of the trick: a -128 activation byte times a negative weight byte comes out
// negated (-(-128) wraps); the Q8_0 quantiser writes only -127..127, as ggml's does.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/x86/avx512/kernels.h"
#include "quant/blocks.h"
#include "quant/half.h"

namespace dsinfer::kernels::avx512 {
namespace {

float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

// roundf() for each lane: to nearest, ties away from zero. v - trunc(v) is exact in float.
__m512 RoundHalfAway(__m512 v) {
  const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m512 frac = _mm512_abs_ps(_mm512_sub_ps(v, t));
  const __mmask16 away = _mm512_cmp_ps_mask(frac, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  const __m512 step = _mm512_castsi512_ps(
      _mm512_or_si512(_mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(INT32_MIN)),
                      _mm512_castps_si512(_mm512_set1_ps(1.0f))));  // +-1 with v's sign
  return _mm512_mask_add_ps(t, away, t, step);
}

// The largest |x| of a 32-element block. max is exact and, but for NaN, order-free, so it
// equals the reference's.
float BlockAbsMax(const float* x) {
  return _mm512_reduce_max_ps(
      _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x)), _mm512_abs_ps(_mm512_loadu_ps(x + 16))));
}

// The levels of a 32-element block at qs, x times id rounded as roundf; with sum, their sum.
void QuantizeQ8Levels(const float* x, float id, int8_t* qs, int32_t* sum) {
  const __m512 vid = _mm512_set1_ps(id);
  const __m512i q0 = _mm512_cvtps_epi32(RoundHalfAway(_mm512_mul_ps(_mm512_loadu_ps(x), vid)));
  const __m512i q1 = _mm512_cvtps_epi32(RoundHalfAway(_mm512_mul_ps(_mm512_loadu_ps(x + 16), vid)));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(qs), _mm512_cvtsepi32_epi8(q0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + 16), _mm512_cvtsepi32_epi8(q1));
  if (sum != nullptr) *sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));  // |q| <= 127
}

// The scales of kQ8ScaleRun blocks from their amax, as the reference computes each: d =
// amax / 127, id = 1 / d (0 where d is 0), and f16(d) rounded to nearest even by vcvtps2ph.
void Q8Scales(const float* amax, float* id, uint16_t* d_half) {
  const __m512 vd = _mm512_div_ps(_mm512_loadu_ps(amax), _mm512_set1_ps(127.0f));
  // d != 0.0f in the reference is true for a NaN d too (unordered).
  const __mmask16 nonzero = _mm512_cmp_ps_mask(vd, _mm512_setzero_ps(), _CMP_NEQ_UQ);
  _mm512_storeu_ps(id, _mm512_maskz_div_ps(nonzero, _mm512_set1_ps(1.0f), vd));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(d_half),
                      _mm512_cvtps_ph(vd, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

}  // namespace

#include "kernels/x86/q8_quantisers_body.inc"

namespace {

// The int32 lane sums of x[i] * y[i] over 32 signed bytes (8 lanes of 4 products), by the
// sign trick: vpdpbusd takes |x| as unsigned bytes and y with x's sign moved onto it.
__m256i DotI8(__m256i x, __m256i y) {
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(x, x),
                             _mm256_sign_epi8(y, x));
}

// The 32 levels of a Q4_0 block as signed bytes q - 8 (-8..7), in element order: the low
// nibbles are elements 0..15, the high nibbles 16..31.
__m256i Q4_0Levels(const uint8_t* qs) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
  return _mm256_sub_epi8(_mm256_and_si256(both, _mm256_set1_epi8(0x0F)), _mm256_set1_epi8(8));
}

__m256i LoadQ8(const int8_t* qs) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs));
}

float HorizontalSum(__m256 v) {
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

// The dot of a weight row whose block i has levels Levels(i) and scale bits Scale(i) with a
// Q8_0 row: two blocks per step into two accumulators (FMA latency would bound one).
template <typename Levels, typename Scale>
float DotWithQ8_0(int64_t nb, const BlockQ8_0* y, Levels levels, Scale scale) {
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 1 < nb; i += 2) {
    const __m256i p0 = DotI8(levels(i), LoadQ8(y[i].qs));
    const __m256i p1 = DotI8(levels(i + 1), LoadQ8(y[i + 1].qs));
    const __m256 d0 = _mm256_set1_ps(HalfToFloat(scale(i)) * HalfToFloat(y[i].d));
    const __m256 d1 = _mm256_set1_ps(HalfToFloat(scale(i + 1)) * HalfToFloat(y[i + 1].d));
    acc0 = _mm256_fmadd_ps(d0, _mm256_cvtepi32_ps(p0), acc0);
    acc1 = _mm256_fmadd_ps(d1, _mm256_cvtepi32_ps(p1), acc1);
  }
  if (i < nb) {
    const __m256i p = DotI8(levels(i), LoadQ8(y[i].qs));
    const __m256 d = _mm256_set1_ps(HalfToFloat(scale(i)) * HalfToFloat(y[i].d));
    acc0 = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc0);
  }
  return HorizontalSum(_mm256_add_ps(acc0, acc1));
}

}  // namespace

float DotQ8_0(int64_t n, const void* w, const void* q8_0) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  return DotWithQ8_0(
      n / kQK, static_cast<const BlockQ8_0*>(q8_0), [x](int64_t i) { return LoadQ8(x[i].qs); },
      [x](int64_t i) { return x[i].d; });
}

float DotQ4_0(int64_t n, const void* w, const void* q8_0) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  return DotWithQ8_0(
      n / kQK, static_cast<const BlockQ8_0*>(q8_0), [x](int64_t i) { return Q4_0Levels(x[i].qs); },
      [x](int64_t i) { return x[i].d; });
}

}  // namespace dsinfer::kernels::avx512
