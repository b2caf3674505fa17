// AVX2 bodies of the 32-element formats: the Q8_0 and Q8_1 activation quantisers and the Q8_0 /
// Q4_0 dots with Q8_0 activations.
//
// Dots: per block, the 32 int8 x int8 products are summed exactly in int32 with the sign
// trick (|x| as u8 times y with x's sign moved onto it, vpmaddubsw then vpmaddwd), then scaled
// by d_x * d_y and accumulated in 8 float lanes; only that float order differs from the
// reference. vpmaddubsw saturates at +-32767 per pair, reached only if both bytes of a pair
// are -128 on both sides; neither the reference quantisers nor ggml's write -128.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/x86/avx2/kernels.h"
#include "quant/blocks.h"
#include "quant/half.h"

namespace dsinfer::kernels::avx2 {
namespace {

float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

float HorizontalSum(__m256 v) {
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  const __m128 s1 = _mm_add_ss(s2, _mm_movehdup_ps(s2));
  return _mm_cvtss_f32(s1);
}

// roundf() for each lane: to nearest, ties away from zero (_mm256_round_ps would tie to even).
// v - trunc(v) is exact in float, so the tie test sees the same value roundf does.
__m256 RoundHalfAway(__m256 v) {
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 frac = _mm256_andnot_ps(sign_bit, _mm256_sub_ps(v, t));
  const __m256 away = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  const __m256 step = _mm256_or_ps(_mm256_and_ps(v, sign_bit), _mm256_set1_ps(1.0f));  // +-1
  return _mm256_add_ps(t, _mm256_and_ps(away, step));
}

// The int32 lane sums of x[i] * y[i] over 32 signed bytes: 8 lanes of 4 products each.
__m256i DotI8(__m256i x, __m256i y) {
  const __m256i ax = _mm256_sign_epi8(x, x);
  const __m256i sy = _mm256_sign_epi8(y, x);
  return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
}

// The largest |x| of a 32-element block. max is exact and, but for NaN, order-free, so it
// equals the reference's; a tree rather than a chain, for the shorter dependency.
float BlockAbsMax(const float* x) {
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  __m256 v[4];
  for (int64_t k = 0; k < 4; ++k) v[k] = _mm256_andnot_ps(sign_bit, _mm256_loadu_ps(x + 8 * k));
  const __m256 amax8 = _mm256_max_ps(_mm256_max_ps(v[0], v[1]), _mm256_max_ps(v[2], v[3]));
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(amax8), _mm256_extractf128_ps(amax8, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
  return _mm_cvtss_f32(m4);
}

// The levels of a 32-element block at qs, x times id rounded as roundf; with sum, their sum.
void QuantizeQ8Levels(const float* x, float id, int8_t* qs, int32_t* sum) {
  const __m256 vid = _mm256_set1_ps(id);
  __m256i q[4];
  for (int64_t k = 0; k < 4; ++k) {
    q[k] = _mm256_cvtps_epi32(RoundHalfAway(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), vid)));
  }
  // packs work per 128-bit lane: the bytes come out as dwords 0,4,1,5,2,6,3,7 of the order.
  const __m256i q16a = _mm256_packs_epi32(q[0], q[1]);
  const __m256i q16b = _mm256_packs_epi32(q[2], q[3]);
  const __m256i q8 = _mm256_packs_epi16(q16a, q16b);
  const __m256i ordered =
      _mm256_permutevar8x32_epi32(q8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs), ordered);
  if (sum != nullptr) {  // |q| <= 127: exact in int32 lanes
    const __m256i s8 = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s8), _mm256_extracti128_si256(s8, 1));
    s4 = _mm_add_epi32(s4, _mm_unpackhi_epi64(s4, s4));
    *sum = _mm_cvtsi128_si32(_mm_add_epi32(s4, _mm_shuffle_epi32(s4, 1)));
  }
}

// The scales of kQ8ScaleRun blocks from their amax, as the reference computes each: d =
// amax / 127, id = 1 / d (0 where d is 0), and f16(d) rounded to nearest even by vcvtps2ph.
void Q8Scales(const float* amax, float* id, uint16_t* d_half) {
  for (int64_t k = 0; k < 16; k += 8) {
    const __m256 vd = _mm256_div_ps(_mm256_loadu_ps(amax + k), _mm256_set1_ps(127.0f));
    // d != 0.0f in the reference is true for a NaN d too (unordered).
    const __m256 nonzero = _mm256_cmp_ps(vd, _mm256_setzero_ps(), _CMP_NEQ_UQ);
    _mm256_storeu_ps(id + k, _mm256_and_ps(nonzero, _mm256_div_ps(_mm256_set1_ps(1.0f), vd)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d_half + k),
                     _mm256_cvtps_ph(vd, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
}

}  // namespace

#include "kernels/x86/q8_quantisers_body.inc"

float DotQ8_0(int64_t n, const void* w, const void* q8_0) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(q8_0);
  const int64_t nb = n / kQK;
  // Two accumulators: the FMA latency, not its throughput, would bound one.
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 1 < nb; i += 2) {
    const __m256i p0 = DotI8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs)),
                             _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs)));
    const __m256i p1 = DotI8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i + 1].qs)),
                             _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i + 1].qs)));
    const __m256 d0 = _mm256_set1_ps(HalfToFloat(x[i].d) * HalfToFloat(y[i].d));
    const __m256 d1 = _mm256_set1_ps(HalfToFloat(x[i + 1].d) * HalfToFloat(y[i + 1].d));
    acc0 = _mm256_fmadd_ps(d0, _mm256_cvtepi32_ps(p0), acc0);
    acc1 = _mm256_fmadd_ps(d1, _mm256_cvtepi32_ps(p1), acc1);
  }
  if (i < nb) {
    const __m256i p = DotI8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs)),
                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs)));
    const __m256 d = _mm256_set1_ps(HalfToFloat(x[i].d) * HalfToFloat(y[i].d));
    acc0 = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc0);
  }
  return HorizontalSum(_mm256_add_ps(acc0, acc1));
}

namespace {

// The 32 levels of a Q4_0 block as signed bytes q - 8 (-8..7), in element order: the low
// nibbles are elements 0..15, the high nibbles 16..31.
__m256i Q4_0Levels(const uint8_t* qs) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
  return _mm256_sub_epi8(_mm256_and_si256(both, _mm256_set1_epi8(0x0F)), _mm256_set1_epi8(8));
}

}  // namespace

float DotQ4_0(int64_t n, const void* w, const void* q8_0) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(q8_0);
  const int64_t nb = n / kQK;
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 1 < nb; i += 2) {
    const __m256i p0 =
        DotI8(Q4_0Levels(x[i].qs), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs)));
    const __m256i p1 = DotI8(Q4_0Levels(x[i + 1].qs),
                             _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i + 1].qs)));
    const __m256 d0 = _mm256_set1_ps(HalfToFloat(x[i].d) * HalfToFloat(y[i].d));
    const __m256 d1 = _mm256_set1_ps(HalfToFloat(x[i + 1].d) * HalfToFloat(y[i + 1].d));
    acc0 = _mm256_fmadd_ps(d0, _mm256_cvtepi32_ps(p0), acc0);
    acc1 = _mm256_fmadd_ps(d1, _mm256_cvtepi32_ps(p1), acc1);
  }
  if (i < nb) {
    const __m256i p =
        DotI8(Q4_0Levels(x[i].qs), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs)));
    const __m256 d = _mm256_set1_ps(HalfToFloat(x[i].d) * HalfToFloat(y[i].d));
    acc0 = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc0);
  }
  return HorizontalSum(_mm256_add_ps(acc0, acc1));
}

}  // namespace dsinfer::kernels::avx2
