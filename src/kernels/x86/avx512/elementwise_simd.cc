// AVX-512 bodies of the element-wise and row-wise ops (contracts and numerics:
// kernels/elementwise.h). Row tails go through masked loads and stores, so every element of a
// row takes the same arithmetic path whatever its position. The exp is bit-identical to avx2's
// (tested); only the summation order of row sums differs.
//
// Thread safety: pure functions over caller-owned memory.
#include "kernels/x86/avx512/elementwise_simd.h"

#include <immintrin.h>

#include <cmath>
#include <limits>

namespace dsinfer::kernels::avx512 {
namespace {

constexpr int64_t kLanes = 16;

// Lanes [0, rem) set, for 0 < rem < kLanes.
__mmask16 TailMask(int64_t rem) { return static_cast<__mmask16>((1u << rem) - 1u); }

// e^x per lane: the reduction and polynomial of avx2's Exp (see there), with 2^n applied by
// scalef, which rounds once, into the subnormal range and to inf on overflow.
__m512 Exp(__m512 x) {
  const __m512 lo = _mm512_set1_ps(-110.0f);
  const __m512 hi = _mm512_set1_ps(89.0f);
  const __m512 log2e = _mm512_set1_ps(1.44269504088896341f);
  const __m512 ln2_hi = _mm512_set1_ps(0.693359375f);
  const __m512 ln2_lo = _mm512_set1_ps(-2.12194440e-4f);
  x = _mm512_min_ps(hi, _mm512_max_ps(lo, x));  // operand order keeps NaN
  const __m512 n =
      _mm512_roundscale_ps(_mm512_mul_ps(x, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, ln2_hi, x);
  r = _mm512_fnmadd_ps(n, ln2_lo, r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(y, n);
}

// lo/hi += the 16 floats of v widened to double (exact).
void AccumulateDouble(__m512 v, __m512d& lo, __m512d& hi) {
  lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
  hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)));
}

// lo/hi += the squares of v in double (exact products: 24 + 24 bits).
void AccumulateSquares(__m512 v, __m512d& lo, __m512d& hi) {
  const __m512d d_lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
  const __m512d d_hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1));
  lo = _mm512_fmadd_pd(d_lo, d_lo, lo);
  hi = _mm512_fmadd_pd(d_hi, d_hi, hi);
}

template <typename Op>
void Map1(const float* x, float* out, int64_t n, Op op) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) _mm512_storeu_ps(out + i, op(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 mask = TailMask(n - i);
    _mm512_mask_storeu_ps(out + i, mask, op(_mm512_maskz_loadu_ps(mask, x + i)));
  }
}

template <typename Op>
void Map2(const float* a, const float* b, float* out, int64_t n, Op op) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    _mm512_storeu_ps(out + i, op(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)));
  }
  if (i < n) {
    const __mmask16 mask = TailMask(n - i);
    _mm512_mask_storeu_ps(
        out + i, mask, op(_mm512_maskz_loadu_ps(mask, a + i), _mm512_maskz_loadu_ps(mask, b + i)));
  }
}

}  // namespace

void ExpRow(const float* x, float* out, int64_t n) { Map1(x, out, n, Exp); }

void RmsNormRow(const float* x, const float* weight, float eps, float* out, int64_t dim) {
  // Four double accumulators: the FMA latency, not the loads, would bound a single chain.
  __m512d acc0 = _mm512_setzero_pd(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
  int64_t j = 0;
  for (; j + 2 * kLanes <= dim; j += 2 * kLanes) {
    AccumulateSquares(_mm512_loadu_ps(x + j), acc0, acc1);
    AccumulateSquares(_mm512_loadu_ps(x + j + kLanes), acc2, acc3);
  }
  for (; j < dim; j += kLanes) {
    const __mmask16 mask = j + kLanes <= dim ? __mmask16{0xffff} : TailMask(dim - j);
    AccumulateSquares(_mm512_maskz_loadu_ps(mask, x + j), acc0, acc1);
  }
  const double sum_sq =
      _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(acc0, acc1), _mm512_add_pd(acc2, acc3)));
  // From here the float roundings of the reference, in its order.
  const auto mean_sq = static_cast<float>(sum_sq / static_cast<double>(dim));
  const __m512 inv_rms = _mm512_set1_ps(1.0f / std::sqrt(mean_sq + eps));
  Map2(x, weight, out, dim,
       [inv_rms](__m512 v, __m512 w) { return _mm512_mul_ps(w, _mm512_mul_ps(v, inv_rms)); });
}

float RowMax(const float* x, int64_t n) {
  // max_ps(v, m) returns m when v is NaN: NaNs are skipped as std::fmax skips them.
  const __m512 neg_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __m512 m0 = neg_inf, m1 = neg_inf, m2 = neg_inf, m3 = neg_inf;
  int64_t i = 0;
  for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
    m0 = _mm512_max_ps(_mm512_loadu_ps(x + i), m0);
    m1 = _mm512_max_ps(_mm512_loadu_ps(x + i + kLanes), m1);
    m2 = _mm512_max_ps(_mm512_loadu_ps(x + i + 2 * kLanes), m2);
    m3 = _mm512_max_ps(_mm512_loadu_ps(x + i + 3 * kLanes), m3);
  }
  for (; i < n; i += kLanes) {
    const __mmask16 mask = i + kLanes <= n ? __mmask16{0xffff} : TailMask(n - i);
    m0 = _mm512_max_ps(_mm512_mask_loadu_ps(neg_inf, mask, x + i), m0);
  }
  return _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(m0, m1), _mm512_max_ps(m2, m3)));
}

double ExpSubSumRow(const float* x, float max, float* out, int64_t n) {
  const __m512 vmax = _mm512_set1_ps(max);
  __m512d sum_lo = _mm512_setzero_pd(), sum_hi = sum_lo;
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const __m512 e = Exp(_mm512_sub_ps(_mm512_loadu_ps(x + i), vmax));
    _mm512_storeu_ps(out + i, e);
    AccumulateDouble(e, sum_lo, sum_hi);
  }
  if (i < n) {
    const __mmask16 mask = TailMask(n - i);
    const __m512 e =
        _mm512_maskz_mov_ps(mask, Exp(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, x + i), vmax)));
    _mm512_mask_storeu_ps(out + i, mask, e);
    AccumulateDouble(e, sum_lo, sum_hi);
  }
  return _mm512_reduce_add_pd(_mm512_add_pd(sum_lo, sum_hi));
}

void SiluMulRow(const float* gate, const float* up, float* out, int64_t n) {
  const __m512 sign = _mm512_set1_ps(-0.0f);
  const __m512 one = _mm512_set1_ps(1.0f);
  Map2(gate, up, out, n, [sign, one](__m512 z, __m512 u) {
    const __m512 denom = _mm512_add_ps(one, Exp(_mm512_xor_ps(z, sign)));
    return _mm512_mul_ps(_mm512_div_ps(z, denom), u);
  });
}

void AddRow(const float* a, const float* b, float* out, int64_t n) {
  Map2(a, b, out, n, [](__m512 u, __m512 v) { return _mm512_add_ps(u, v); });
}

void ScaleRow(const float* x, float scale, float* out, int64_t n) {
  const __m512 s = _mm512_set1_ps(scale);
  Map1(x, out, n, [s](__m512 v) { return _mm512_mul_ps(v, s); });
}

}  // namespace dsinfer::kernels::avx512
