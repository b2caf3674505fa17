// AVX-512 (F, BW, VL) inner loops of paged attention; contracts in attention_simd.h.
// The row kernels are here; their row-block dispatch and the entry points are the shared
// ones of x86/attention_rows_body.inc.
//
// Register blocking: a score kernel walks 2 or 4 key rows at once per group of up to 8 query
// rows (one accumulator per score, so a score's summation order does not depend on the group);
// the value kernel keeps 2 x 16 output lanes of up to 4 rows in registers while it walks the
// value rows (four rows at most: GCC moves 2 x 8 zmm accumulators through the stack on every
// key). Partial vectors (dims not a multiple of 32 / 16) use masked loads and stores.
#include "kernels/x86/avx512/attention_simd.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/x86/attention_prefetch.h"

namespace dsinfer::kernels::avx512 {
namespace {

constexpr int64_t kLanes = 16;

__mmask16 FirstLanes(int64_t n) {  // n in [0, 16]
  return static_cast<__mmask16>((1U << static_cast<unsigned>(n)) - 1U);
}

// Loads of 16 cache elements widened to float, by storage type; masked-off lanes are zero.
struct F32Elems {
  using T = float;
  static __m512 Load(const float* p) { return _mm512_loadu_ps(p); }
  static __m512 LoadPartial(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
};

struct F16Elems {
  using T = uint16_t;
  static __m512 Load(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static __m512 LoadPartial(const uint16_t* p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
  }
};

// The sum of x's 16 lanes in a fixed order: lane i + lane i + 8, those pairs i and i + 4, then
// i and i + 2, then the last two. (Spelled out: _mm512_reduce_add_ps's order is the compiler's.)
float SumLanes(__m512 x) {
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(x),
                                 _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)));
  const __m128 f = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  const __m128 p = _mm_add_ps(f, _mm_movehl_ps(f, f));
  return _mm_cvtss_f32(_mm_add_ss(p, _mm_movehdup_ps(p)));
}

// SumLanes of x[0..15] as one vector, lane i = SumLanes(x[i]) to the bit, in 45 shuffles and
// adds instead of 16 x 7.
__m512 Reduce16(const __m512* x) {
  // 128-bit lanes: i + 8 (within a vector, lanes 0 + 2 and 1 + 3), then + 4 (lanes 0 + 1).
  const auto fold_halves = [](__m512 u, __m512 v) {
    return _mm512_add_ps(_mm512_shuffle_f32x4(u, v, 0x44), _mm512_shuffle_f32x4(u, v, 0xEE));
  };
  const auto fold_quarters = [](__m512 u, __m512 v) {
    return _mm512_add_ps(_mm512_shuffle_f32x4(u, v, 0x88), _mm512_shuffle_f32x4(u, v, 0xDD));
  };
  // Lane k of b_m now holds x[4 m + k]'s four partial sums; the in-lane folds below leave
  // x[4 m + k]'s sum in lane 4 k + m, so the inputs go in transposed (x[4 k + m] at 4 m + k).
  const __m512 b0 = fold_quarters(fold_halves(x[0], x[4]), fold_halves(x[8], x[12]));
  const __m512 b1 = fold_quarters(fold_halves(x[1], x[5]), fold_halves(x[9], x[13]));
  const __m512 b2 = fold_quarters(fold_halves(x[2], x[6]), fold_halves(x[10], x[14]));
  const __m512 b3 = fold_quarters(fold_halves(x[3], x[7]), fold_halves(x[11], x[15]));
  // Within 128 bits: elements 0 + 2 and 1 + 3, then those two.
  const __m512 c0 = _mm512_add_ps(_mm512_unpacklo_ps(b0, b1), _mm512_unpackhi_ps(b0, b1));
  const __m512 c1 = _mm512_add_ps(_mm512_unpacklo_ps(b2, b3), _mm512_unpackhi_ps(b2, b3));
  return _mm512_add_ps(_mm512_shuffle_ps(c0, c1, 0x44), _mm512_shuffle_ps(c0, c1, 0xEE));
}

// The scores of kRows query rows against kKeys consecutive key rows: kRows x kKeys chains, so
// that each q vector loaded from L1 feeds kKeys FMAs. With one key per pass the loop issued
// a load per FMA and ran at about 40 % of the FMA rate (MLA decode, attention_bench). Asks
// for the same rows of the next block (`next`, or null) a line at a time as it goes.
template <class E, int kRows, int kKeys>
void ScoreTile(const float* q, int64_t dim, const typename E::T* k, int64_t k_stride,
               const typename E::T* next, __mmask16 tail, float* s, int64_t s_stride) {
  using T = typename E::T;
  __m512 acc[kRows][kKeys];
  for (int r = 0; r < kRows; ++r) {
    for (int j = 0; j < kKeys; ++j) acc[r][j] = _mm512_setzero_ps();
  }
  int64_t e = 0;
  for (; e + kLanes <= dim; e += kLanes) {
    if (next != nullptr && StartsLine<T, kLanes>(e)) PrefetchColumn<kKeys>(next, k_stride, e);
    __m512 kv[kKeys];
    for (int j = 0; j < kKeys; ++j) kv[j] = E::Load(k + j * k_stride + e);
    for (int r = 0; r < kRows; ++r) {
      __m512 qr = _mm512_loadu_ps(q + r * dim + e);
      __asm__("" : "+v"(qr));  // else GCC folds the load into each FMA: kKeys loads again
      for (int j = 0; j < kKeys; ++j) acc[r][j] = _mm512_fmadd_ps(qr, kv[j], acc[r][j]);
    }
  }
  if (e < dim) {
    if (next != nullptr) PrefetchColumn<kKeys>(next, k_stride, e);
    __m512 kv[kKeys];
    for (int j = 0; j < kKeys; ++j) kv[j] = E::LoadPartial(k + j * k_stride + e, tail);
    for (int r = 0; r < kRows; ++r) {
      const __m512 qr = _mm512_maskz_loadu_ps(tail, q + r * dim + e);
      for (int j = 0; j < kKeys; ++j) acc[r][j] = _mm512_fmadd_ps(qr, kv[j], acc[r][j]);
    }
  }
  if constexpr (kRows * kKeys == 16) {
    alignas(64) float sums[16];
    _mm512_store_ps(sums, Reduce16(&acc[0][0]));  // the 16 accumulators are contiguous
    for (int r = 0; r < kRows; ++r) {
      for (int j = 0; j < kKeys; ++j) s[r * s_stride + j] = sums[r * kKeys + j];
    }
  } else {
    for (int r = 0; r < kRows; ++r) {
      for (int j = 0; j < kKeys; ++j) s[r * s_stride + j] = SumLanes(acc[r][j]);
    }
  }
}

// Keys go in pairs for 8 rows and in fours below, so that the full tiles hold 16 accumulators
// and reduce in one Reduce16; the last n_k % kKeys keys go one at a time. A score's chain (its
// FMAs in element order, then SumLanes's order) is the same in every tile shape, so scores do
// not depend on how the rows or keys were grouped.
template <class E, int kRows>
void ScoreRows(const float* q, int64_t dim, const typename E::T* k, int64_t k_stride, int64_t n_k,
               const typename E::T* next, float* s, int64_t s_stride) {
  constexpr int kKeys = kRows >= 8 ? 2 : 4;
  const __mmask16 tail = FirstLanes(dim % kLanes);
  int64_t t = 0;
  for (; t + kKeys <= n_k; t += kKeys) {
    ScoreTile<E, kRows, kKeys>(q, dim, k + t * k_stride, k_stride, NextRowsFrom(next, t, k_stride),
                               tail, s + t, s_stride);
  }
  for (; t < n_k; ++t) {
    ScoreTile<E, kRows, 1>(q, dim, k + t * k_stride, k_stride, NextRowsFrom(next, t, k_stride),
                           tail, s + t, s_stride);
  }
}

// acc rows [0, kRows) over output lanes [e, e + 32), all full vectors; asks for those lanes'
// lines of the next block's rows (`next`, or null).
template <class E, int kRows>
void AccumulateLanes(const float* p, int64_t p_stride, const typename E::T* v, int64_t v_stride,
                     int64_t n_v, const typename E::T* next, int64_t dim, int64_t e, float* acc) {
  __m512 a[kRows][2];
  for (int r = 0; r < kRows; ++r) {
    for (int j = 0; j < 2; ++j) a[r][j] = _mm512_loadu_ps(acc + r * dim + e + j * kLanes);
  }
  for (int64_t t = 0; t < n_v; ++t) {
    if (next != nullptr) PrefetchLines(next + t * v_stride + e, 2 * kLanes);
    const __m512 v0 = E::Load(v + t * v_stride + e);
    const __m512 v1 = E::Load(v + t * v_stride + e + kLanes);
    for (int r = 0; r < kRows; ++r) {
      const __m512 pr = _mm512_set1_ps(p[r * p_stride + t]);
      a[r][0] = _mm512_fmadd_ps(pr, v0, a[r][0]);
      a[r][1] = _mm512_fmadd_ps(pr, v1, a[r][1]);
    }
  }
  for (int r = 0; r < kRows; ++r) {
    for (int j = 0; j < 2; ++j) _mm512_storeu_ps(acc + r * dim + e + j * kLanes, a[r][j]);
  }
}

template <class E, int kRows>
void AccumulateRows(const float* p, int64_t p_stride, const typename E::T* v, int64_t v_stride,
                    int64_t n_v, const typename E::T* next, int64_t dim, float* acc) {
  int64_t e = 0;
  for (; e + 2 * kLanes <= dim; e += 2 * kLanes) {
    AccumulateLanes<E, kRows>(p, p_stride, v, v_stride, n_v, next, dim, e, acc);
  }
  if (next != nullptr && e < dim) {
    for (int64_t t = 0; t < n_v; ++t) PrefetchLines(next + t * v_stride + e, dim - e);
  }
  for (; e < dim; e += kLanes) {  // at most two masked vectors, one row at a time
    const __mmask16 lanes = FirstLanes(std::min(dim - e, kLanes));
    for (int r = 0; r < kRows; ++r) {
      __m512 a = _mm512_maskz_loadu_ps(lanes, acc + r * dim + e);
      for (int64_t t = 0; t < n_v; ++t) {
        a = _mm512_fmadd_ps(_mm512_set1_ps(p[r * p_stride + t]),
                            E::LoadPartial(v + t * v_stride + e, lanes), a);
      }
      _mm512_mask_storeu_ps(acc + r * dim + e, lanes, a);
    }
  }
}

// exp(x) for x <= 0 (Cephes expf): x = n ln2 + r with |r| <= ln2 / 2, exp(r) by a degree-6
// polynomial, times 2^n with vscalefps. Clamped to [-87.3, 0] as the avx2 body is.
__m512 ExpNonPositive(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_setzero_ps());
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 y = _mm512_set1_ps(1.9875691500e-4f);
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.3981999507e-3f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(8.3334519073e-3f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(4.1665795894e-2f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.6666665459e-1f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(5.0000001201e-1f));
  y = _mm512_add_ps(_mm512_fmadd_ps(y, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(y, n);
}

// The largest of x[0..n), n >= 1 (max is exact: the order does not matter).
float RowMax(const float* x, int64_t n) {
  __m512 m = _mm512_set1_ps(x[0]);
  for (int64_t i = 0; i < n; i += kLanes) {
    const __mmask16 lanes = FirstLanes(std::min(n - i, kLanes));
    m = _mm512_mask_max_ps(m, lanes, m, _mm512_maskz_loadu_ps(lanes, x + i));
  }
  return _mm512_reduce_max_ps(m);
}

// x[i] *= f for i < n.
void ScaleRow(float* x, int64_t n, float f) {
  const __m512 vf = _mm512_set1_ps(f);
  for (int64_t i = 0; i < n; i += kLanes) {
    const __mmask16 lanes = FirstLanes(std::min(n - i, kLanes));
    _mm512_mask_storeu_ps(x + i, lanes, _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, x + i), vf));
  }
}

// x[i] = exp(x[i] - max) for i < n, returning their sum (AttentionBlockSoftmax's exps).
float ExpSubSum(float* x, int64_t n, float max) {
  const __m512 m = _mm512_set1_ps(max);
  __m512 sum16 = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += kLanes) {
    const __mmask16 lanes = FirstLanes(n - i < kLanes ? n - i : kLanes);
    const __m512 y = ExpNonPositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(lanes, x + i), m));
    _mm512_mask_storeu_ps(x + i, lanes, y);
    sum16 = _mm512_add_ps(sum16, _mm512_maskz_mov_ps(lanes, y));
  }
  return _mm512_reduce_add_ps(sum16);
}

}  // namespace

#include "kernels/x86/attention_rows_body.inc"

}  // namespace dsinfer::kernels::avx512
