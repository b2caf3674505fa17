// AVX2 + FMA bodies of the element-wise and row-wise ops (contracts and numerics:
// kernels/elementwise.h). Row tails go through masked loads and stores, so every element of a
// row takes the same arithmetic path whatever its position.
//
// Thread safety: pure functions over caller-owned memory.
#include "kernels/x86/avx2/elementwise_simd.h"

#include <immintrin.h>

#include <cmath>
#include <limits>

namespace dsinfer::kernels::avx2 {
namespace {

constexpr int64_t kLanes = 8;

// Lanes [0, rem) set, for 0 < rem < kLanes.
__m256i TailMask(int64_t rem) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(rem)), lane);
}

// e^x per lane. Inputs are clamped to [-110, 89] first (operand order keeps NaN): below -110
// the result is 0 and above 89 inf either way, and the clamp keeps n in int range. Then
// x = n ln2 + r with ln2 split in two (Cody-Waite: n * ln2_hi is exact for |n| < 2^15),
// e^r = 1 + r + r^2 P(r) with Cephes expf's degree-5 P on |r| <= ln2/2, and 2^n applied as
// 2^(n - n/2) * 2^(n/2): both factors are normal floats, so the first product is exact and the
// second rounds once, correctly into the subnormal range and to inf on overflow.
__m256 Exp(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-110.0f);
  const __m256 hi = _mm256_set1_ps(89.0f);
  const __m256 log2e = _mm256_set1_ps(1.44269504088896341f);
  const __m256 ln2_hi = _mm256_set1_ps(0.693359375f);
  const __m256 ln2_lo = _mm256_set1_ps(-2.12194440e-4f);
  x = _mm256_min_ps(hi, _mm256_max_ps(lo, x));
  const __m256 n =
      _mm256_round_ps(_mm256_mul_ps(x, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, ln2_hi, x);
  r = _mm256_fnmadd_ps(n, ln2_lo, r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  const __m256 y = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
  // NaN converts to INT_MIN; y is NaN then and so is the product.
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i n_half = _mm256_srai_epi32(ni, 1);
  const __m256i n_rest = _mm256_sub_epi32(ni, n_half);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 scale_half =
      _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n_half, bias), 23));
  const __m256 scale_rest =
      _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n_rest, bias), 23));
  return _mm256_mul_ps(_mm256_mul_ps(y, scale_rest), scale_half);
}

double HorizontalSum(__m256d v) {
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
  return _mm_cvtsd_f64(s);
}

float HorizontalMax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}

// lo/hi += the 8 floats of v widened to double (exact), optionally squared (exact in double:
// 24 + 24 bits).
void AccumulateDouble(__m256 v, __m256d& lo, __m256d& hi) {
  lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
  hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

void AccumulateSquares(__m256 v, __m256d& lo, __m256d& hi) {
  const __m256d d_lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
  const __m256d d_hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
  lo = _mm256_fmadd_pd(d_lo, d_lo, lo);
  hi = _mm256_fmadd_pd(d_hi, d_hi, hi);
}

// out[i] = op(x[i]) a vector at a time; masked lanes of the tail compute on zeros and are not
// stored.
template <typename Op>
void Map1(const float* x, float* out, int64_t n, Op op) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) _mm256_storeu_ps(out + i, op(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __m256i mask = TailMask(n - i);
    _mm256_maskstore_ps(out + i, mask, op(_mm256_maskload_ps(x + i, mask)));
  }
}

template <typename Op>
void Map2(const float* a, const float* b, float* out, int64_t n, Op op) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    _mm256_storeu_ps(out + i, op(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
  }
  if (i < n) {
    const __m256i mask = TailMask(n - i);
    _mm256_maskstore_ps(out + i, mask,
                        op(_mm256_maskload_ps(a + i, mask), _mm256_maskload_ps(b + i, mask)));
  }
}

}  // namespace

void ExpRow(const float* x, float* out, int64_t n) { Map1(x, out, n, Exp); }

void RmsNormRow(const float* x, const float* weight, float eps, float* out, int64_t dim) {
  // Four double accumulators: the FMA latency, not the loads, would bound a single chain.
  __m256d acc0 = _mm256_setzero_pd(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
  int64_t j = 0;
  for (; j + 2 * kLanes <= dim; j += 2 * kLanes) {
    AccumulateSquares(_mm256_loadu_ps(x + j), acc0, acc1);
    AccumulateSquares(_mm256_loadu_ps(x + j + kLanes), acc2, acc3);
  }
  for (; j < dim; j += kLanes) {
    const __m256 v =
        j + kLanes <= dim ? _mm256_loadu_ps(x + j) : _mm256_maskload_ps(x + j, TailMask(dim - j));
    AccumulateSquares(v, acc0, acc1);
  }
  const double sum_sq =
      HorizontalSum(_mm256_add_pd(_mm256_add_pd(acc0, acc1), _mm256_add_pd(acc2, acc3)));
  // From here the float roundings of the reference, in its order.
  const auto mean_sq = static_cast<float>(sum_sq / static_cast<double>(dim));
  const __m256 inv_rms = _mm256_set1_ps(1.0f / std::sqrt(mean_sq + eps));
  Map2(x, weight, out, dim,
       [inv_rms](__m256 v, __m256 w) { return _mm256_mul_ps(w, _mm256_mul_ps(v, inv_rms)); });
}

float RowMax(const float* x, int64_t n) {
  // max_ps(v, m) returns m when v is NaN: NaNs are skipped as std::fmax skips them.
  const __m256 neg_inf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  __m256 m0 = neg_inf, m1 = neg_inf, m2 = neg_inf, m3 = neg_inf;
  int64_t i = 0;
  for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
    m0 = _mm256_max_ps(_mm256_loadu_ps(x + i), m0);
    m1 = _mm256_max_ps(_mm256_loadu_ps(x + i + kLanes), m1);
    m2 = _mm256_max_ps(_mm256_loadu_ps(x + i + 2 * kLanes), m2);
    m3 = _mm256_max_ps(_mm256_loadu_ps(x + i + 3 * kLanes), m3);
  }
  for (; i < n; i += kLanes) {
    if (i + kLanes <= n) {
      m0 = _mm256_max_ps(_mm256_loadu_ps(x + i), m0);
    } else {
      const __m256i mask = TailMask(n - i);
      const __m256 v = _mm256_maskload_ps(x + i, mask);
      m0 = _mm256_max_ps(_mm256_blendv_ps(neg_inf, v, _mm256_castsi256_ps(mask)), m0);
    }
  }
  return HorizontalMax(_mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3)));
}

double ExpSubSumRow(const float* x, float max, float* out, int64_t n) {
  const __m256 vmax = _mm256_set1_ps(max);
  __m256d sum_lo = _mm256_setzero_pd(), sum_hi = sum_lo;
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const __m256 e = Exp(_mm256_sub_ps(_mm256_loadu_ps(x + i), vmax));
    _mm256_storeu_ps(out + i, e);
    AccumulateDouble(e, sum_lo, sum_hi);
  }
  if (i < n) {
    const __m256i mask = TailMask(n - i);
    const __m256 e = _mm256_and_ps(Exp(_mm256_sub_ps(_mm256_maskload_ps(x + i, mask), vmax)),
                                   _mm256_castsi256_ps(mask));
    _mm256_maskstore_ps(out + i, mask, e);
    AccumulateDouble(e, sum_lo, sum_hi);
  }
  return HorizontalSum(_mm256_add_pd(sum_lo, sum_hi));
}

void SiluMulRow(const float* gate, const float* up, float* out, int64_t n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 one = _mm256_set1_ps(1.0f);
  Map2(gate, up, out, n, [sign, one](__m256 z, __m256 u) {
    const __m256 denom = _mm256_add_ps(one, Exp(_mm256_xor_ps(z, sign)));
    return _mm256_mul_ps(_mm256_div_ps(z, denom), u);
  });
}

void AddRow(const float* a, const float* b, float* out, int64_t n) {
  Map2(a, b, out, n, [](__m256 u, __m256 v) { return _mm256_add_ps(u, v); });
}

void ScaleRow(const float* x, float scale, float* out, int64_t n) {
  const __m256 s = _mm256_set1_ps(scale);
  Map1(x, out, n, [s](__m256 v) { return _mm256_mul_ps(v, s); });
}

}  // namespace dsinfer::kernels::avx2
