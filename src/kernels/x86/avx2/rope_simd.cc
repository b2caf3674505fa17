// AVX2 + FMA bodies of RoPE (contracts and numerics: kernels/rope.h): a vectorised double
// sin/cos for the per-position table, and the two pairings' rotations.
//
// Thread safety: pure functions over caller-owned memory.
#include "kernels/x86/avx2/rope_simd.h"

#include <immintrin.h>

#include <cstddef>

namespace dsinfer::kernels::avx2 {
namespace {

constexpr int64_t kLanes = 8;

// Lanes [0, rem) set, for 0 < rem < 8 (32-bit lanes).
__m256i TailMask(int64_t rem) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(rem)), lane);
}

// Double polynomial evaluation, highest coefficient first.
template <size_t N>
__m256d Poly(__m256d z, const double (&c)[N]) {
  __m256d p = _mm256_set1_pd(c[0]);
  for (size_t i = 1; i < N; ++i) p = _mm256_fmadd_pd(p, z, _mm256_set1_pd(c[i]));
  return p;
}

// sin and cos of 4 angles. a = k pi/2 + r with k the nearest integer and pi/2 as a double-double
// (the FMA makes a - k * hi exact before rounding), |r| <= pi/4; Cephes' sin.c polynomials on r
// (relative error ~1e-16); then the quadrant k mod 4 picks and signs them.
void SinCos(__m256d a, __m256d* sin_a, __m256d* cos_a) {
  constexpr double kSin[] = {1.58962301576546568060e-10, -2.50507477628578072866e-8,
                             2.75573136213857245213e-6,  -1.98412698295895385996e-4,
                             8.33333333332211858878e-3,  -1.66666666666666307295e-1};
  constexpr double kCos[] = {-1.13585365213876817300e-11, 2.08757008419747316778e-9,
                             -2.75573141792967388112e-7,  2.48015872888517045348e-5,
                             -1.38888888888730564116e-3,  4.16666666666665929218e-2};
  const __m256d k = _mm256_round_pd(_mm256_mul_pd(a, _mm256_set1_pd(0.63661977236758134308)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256d r = _mm256_fnmadd_pd(k, _mm256_set1_pd(1.57079632679489655800e+00), a);
  r = _mm256_fnmadd_pd(k, _mm256_set1_pd(6.12323399573676603587e-17), r);
  const __m256d z = _mm256_mul_pd(r, r);
  const __m256d sin_r = _mm256_fmadd_pd(_mm256_mul_pd(r, z), Poly(z, kSin), r);
  const __m256d one_minus = _mm256_fnmadd_pd(_mm256_set1_pd(0.5), z, _mm256_set1_pd(1.0));
  const __m256d cos_r = _mm256_fmadd_pd(_mm256_mul_pd(z, z), Poly(z, kCos), one_minus);
  // q = k mod 4 in {0, 1, 2, 3} (exact in double, also for negative k):
  //   sin a = [s, c, -s, -c][q],  cos a = [c, -s, -c, s][q]
  const __m256d q = _mm256_sub_pd(
      k,
      _mm256_mul_pd(_mm256_set1_pd(4.0), _mm256_floor_pd(_mm256_mul_pd(k, _mm256_set1_pd(0.25)))));
  const __m256d odd = _mm256_cmp_pd(
      _mm256_sub_pd(q, _mm256_mul_pd(_mm256_set1_pd(2.0),
                                     _mm256_floor_pd(_mm256_mul_pd(q, _mm256_set1_pd(0.5))))),
      _mm256_set1_pd(1.0), _CMP_EQ_OQ);
  const __m256d sign = _mm256_set1_pd(-0.0);
  const __m256d neg_sin = _mm256_cmp_pd(q, _mm256_set1_pd(2.0), _CMP_GE_OQ);
  const __m256d q_centered = _mm256_sub_pd(q, _mm256_set1_pd(1.5));  // +-0.5 for q = 1, 2
  const __m256d neg_cos =
      _mm256_cmp_pd(_mm256_mul_pd(q_centered, q_centered), _mm256_set1_pd(1.0), _CMP_LT_OQ);
  *sin_a = _mm256_xor_pd(_mm256_blendv_pd(sin_r, cos_r, odd), _mm256_and_pd(neg_sin, sign));
  *cos_a = _mm256_xor_pd(_mm256_blendv_pd(cos_r, sin_r, odd), _mm256_and_pd(neg_cos, sign));
}

// Full blocks use plain loads and stores (a masked store is slow on some cores), the tail the
// masked forms.
template <bool kTail>
__m256 Load(const float* p, __m256i mask) {
  if constexpr (kTail) return _mm256_maskload_ps(p, mask);
  return _mm256_loadu_ps(p);
}

template <bool kTail>
void Store(float* p, __m256i mask, __m256 v) {
  if constexpr (kTail) {
    _mm256_maskstore_ps(p, mask, v);
  } else {
    _mm256_storeu_ps(p, v);
  }
}

// u' = u c - w s, w' = w c + u s: the roundings of the interleaved body for the same pair, so
// the two pairings agree bit for bit under de-interleaving.
template <bool kTail>
void RotateHalfSplitBlock(const float* cos_a, const float* sin_a, float* u, float* w,
                          __m256i mask) {
  const __m256 uv = Load<kTail>(u, mask);
  const __m256 wv = Load<kTail>(w, mask);
  const __m256 c = Load<kTail>(cos_a, mask);
  const __m256 s = Load<kTail>(sin_a, mask);
  Store<kTail>(u, mask, _mm256_fmsub_ps(uv, c, _mm256_mul_ps(wv, s)));
  Store<kTail>(w, mask, _mm256_fmadd_ps(wv, c, _mm256_mul_ps(uv, s)));
}

// Blocks start at even offsets, so every pair sits inside one 128-bit lane and 0xB1 swaps its
// two values: x' = x C + swap(x) S.
template <bool kTail>
void RotateInterleavedBlock(const float* cos2, const float* sin2, float* x, __m256i mask) {
  const __m256 v = Load<kTail>(x, mask);
  const __m256 swapped = _mm256_permute_ps(v, 0xB1);
  Store<kTail>(
      x, mask,
      _mm256_fmadd_ps(v, Load<kTail>(cos2, mask), _mm256_mul_ps(swapped, Load<kTail>(sin2, mask))));
}

// cos and sin of position * inv_freq[0..3] (masked lanes load 0), times the factor, to float.
void CosSinBlock(const float* inv_freq, __m256d position, __m256d factor, float* cos_out,
                 float* sin_out, int64_t count) {
  const __m128i mask = count >= 4 ? _mm_set1_epi32(-1) : _mm256_castsi256_si128(TailMask(count));
  const __m256d angle = _mm256_mul_pd(position, _mm256_cvtps_pd(_mm_maskload_ps(inv_freq, mask)));
  __m256d sin_a, cos_a;
  SinCos(angle, &sin_a, &cos_a);
  const __m128 c = _mm256_cvtpd_ps(_mm256_mul_pd(cos_a, factor));
  const __m128 s = _mm256_cvtpd_ps(_mm256_mul_pd(sin_a, factor));
  if (count >= 4) {
    _mm_storeu_ps(cos_out, c);
    _mm_storeu_ps(sin_out, s);
  } else {
    _mm_maskstore_ps(cos_out, mask, c);
    _mm_maskstore_ps(sin_out, mask, s);
  }
}

}  // namespace

void RopeCosSin(const float* inv_freq, int64_t n, int64_t position, double attention_factor,
                float* cos_out, float* sin_out) {
  const __m256d p = _mm256_set1_pd(static_cast<double>(position));
  const __m256d factor = _mm256_set1_pd(attention_factor);
  for (int64_t i = 0; i < n; i += 4) {
    CosSinBlock(inv_freq + i, p, factor, cos_out + i, sin_out + i, n - i);
  }
}

void RopeRotateHalfSplit(const float* cos_a, const float* sin_a, int64_t half, float* x) {
  const __m256i all = _mm256_set1_epi32(-1);
  int64_t i = 0;
  for (; i + kLanes <= half; i += kLanes) {
    RotateHalfSplitBlock<false>(cos_a + i, sin_a + i, x + i, x + half + i, all);
  }
  if (i < half) {
    RotateHalfSplitBlock<true>(cos_a + i, sin_a + i, x + i, x + half + i, TailMask(half - i));
  }
}

void RopeRotateInterleaved(const float* cos2, const float* sin2, int64_t dims, float* x) {
  const __m256i all = _mm256_set1_epi32(-1);
  int64_t j = 0;
  for (; j + kLanes <= dims; j += kLanes) {
    RotateInterleavedBlock<false>(cos2 + j, sin2 + j, x + j, all);
  }
  if (j < dims) RotateInterleavedBlock<true>(cos2 + j, sin2 + j, x + j, TailMask(dims - j));
}

}  // namespace dsinfer::kernels::avx2
