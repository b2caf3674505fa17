// AVX-512 bodies of RoPE (contracts and numerics: kernels/rope.h): the double sin/cos of the
// avx2 bodies eight angles at a time, and the two pairings' rotations sixteen floats at a time.
// Same operations in the same order as avx2, so both levels give the same bits.
//
// Thread safety: pure functions over caller-owned memory.
#include "kernels/x86/avx512/rope_simd.h"

#include <immintrin.h>

#include <cstddef>

namespace dsinfer::kernels::avx512 {
namespace {

constexpr int64_t kLanes = 16;

__mmask16 TailMask(int64_t rem) {
  return rem >= kLanes ? __mmask16{0xffff} : static_cast<__mmask16>((1u << rem) - 1u);
}

// Double polynomial evaluation, highest coefficient first.
template <size_t N>
__m512d Poly(__m512d z, const double (&c)[N]) {
  __m512d p = _mm512_set1_pd(c[0]);
  for (size_t i = 1; i < N; ++i) p = _mm512_fmadd_pd(p, z, _mm512_set1_pd(c[i]));
  return p;
}

// sin and cos of 8 angles: see avx2's SinCos.
void SinCos(__m512d a, __m512d* sin_a, __m512d* cos_a) {
  constexpr double kSin[] = {1.58962301576546568060e-10, -2.50507477628578072866e-8,
                             2.75573136213857245213e-6,  -1.98412698295895385996e-4,
                             8.33333333332211858878e-3,  -1.66666666666666307295e-1};
  constexpr double kCos[] = {-1.13585365213876817300e-11, 2.08757008419747316778e-9,
                             -2.75573141792967388112e-7,  2.48015872888517045348e-5,
                             -1.38888888888730564116e-3,  4.16666666666665929218e-2};
  const __m512d k = _mm512_roundscale_pd(_mm512_mul_pd(a, _mm512_set1_pd(0.63661977236758134308)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512d r = _mm512_fnmadd_pd(k, _mm512_set1_pd(1.57079632679489655800e+00), a);
  r = _mm512_fnmadd_pd(k, _mm512_set1_pd(6.12323399573676603587e-17), r);
  const __m512d z = _mm512_mul_pd(r, r);
  const __m512d sin_r = _mm512_fmadd_pd(_mm512_mul_pd(r, z), Poly(z, kSin), r);
  const __m512d one_minus = _mm512_fnmadd_pd(_mm512_set1_pd(0.5), z, _mm512_set1_pd(1.0));
  const __m512d cos_r = _mm512_fmadd_pd(_mm512_mul_pd(z, z), Poly(z, kCos), one_minus);
  // q = k mod 4: sin a = [s, c, -s, -c][q], cos a = [c, -s, -c, s][q]. Both k and q are small
  // integers in double, so the int64 conversion is exact.
  const __m512i q = _mm512_and_si512(_mm512_cvtpd_epi64(k), _mm512_set1_epi64(3));
  const __m512i one = _mm512_set1_epi64(1);
  const __mmask8 odd = _mm512_test_epi64_mask(q, one);
  const __mmask8 neg_sin = _mm512_test_epi64_mask(q, _mm512_set1_epi64(2));
  const __mmask8 neg_cos = _mm512_test_epi64_mask(_mm512_add_epi64(q, one), _mm512_set1_epi64(2));
  const __m512d sign = _mm512_set1_pd(-0.0);
  const __m512d sin_q = _mm512_mask_blend_pd(odd, sin_r, cos_r);
  const __m512d cos_q = _mm512_mask_blend_pd(odd, cos_r, sin_r);
  *sin_a = _mm512_mask_xor_pd(sin_q, neg_sin, sin_q, sign);
  *cos_a = _mm512_mask_xor_pd(cos_q, neg_cos, cos_q, sign);
}

}  // namespace

void RopeCosSin(const float* inv_freq, int64_t n, int64_t position, double attention_factor,
                float* cos_out, float* sin_out) {
  const __m512d p = _mm512_set1_pd(static_cast<double>(position));
  const __m512d factor = _mm512_set1_pd(attention_factor);
  for (int64_t i = 0; i < n; i += 8) {
    const auto mask = static_cast<__mmask8>(TailMask(n - i));
    const __m512d angle =
        _mm512_mul_pd(p, _mm512_cvtps_pd(_mm256_maskz_loadu_ps(mask, inv_freq + i)));
    __m512d sin_a, cos_a;
    SinCos(angle, &sin_a, &cos_a);
    _mm256_mask_storeu_ps(cos_out + i, mask, _mm512_cvtpd_ps(_mm512_mul_pd(cos_a, factor)));
    _mm256_mask_storeu_ps(sin_out + i, mask, _mm512_cvtpd_ps(_mm512_mul_pd(sin_a, factor)));
  }
}

void RopeRotateHalfSplit(const float* cos_a, const float* sin_a, int64_t half, float* x) {
  // u' = u c - w s, w' = w c + u s: the roundings of the interleaved body for the same pair.
  float* w = x + half;
  for (int64_t i = 0; i < half; i += kLanes) {
    const __mmask16 mask = TailMask(half - i);
    const __m512 uv = _mm512_maskz_loadu_ps(mask, x + i);
    const __m512 wv = _mm512_maskz_loadu_ps(mask, w + i);
    const __m512 c = _mm512_maskz_loadu_ps(mask, cos_a + i);
    const __m512 s = _mm512_maskz_loadu_ps(mask, sin_a + i);
    _mm512_mask_storeu_ps(x + i, mask, _mm512_fmsub_ps(uv, c, _mm512_mul_ps(wv, s)));
    _mm512_mask_storeu_ps(w + i, mask, _mm512_fmadd_ps(wv, c, _mm512_mul_ps(uv, s)));
  }
}

void RopeRotateInterleaved(const float* cos2, const float* sin2, int64_t dims, float* x) {
  // Blocks start at even offsets, so every pair sits inside one 128-bit lane and 0xB1 swaps its
  // two values: x' = x C + swap(x) S.
  for (int64_t j = 0; j < dims; j += kLanes) {
    const __mmask16 mask = TailMask(dims - j);
    const __m512 v = _mm512_maskz_loadu_ps(mask, x + j);
    const __m512 swapped = _mm512_permute_ps(v, 0xB1);
    const __m512 rotated =
        _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(mask, cos2 + j),
                        _mm512_mul_ps(swapped, _mm512_maskz_loadu_ps(mask, sin2 + j)));
    _mm512_mask_storeu_ps(x + j, mask, rotated);
  }
}

}  // namespace dsinfer::kernels::avx512
