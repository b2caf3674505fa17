// AVX2 + FMA + F16C inner loops of paged attention; contracts in attention_simd.h.
// The row kernels are here; their row-block dispatch and the entry points are the shared
// ones of x86/attention_rows_body.inc.
//
// Register blocking: a score kernel walks 2 or 4 key rows at once per group of up to 4 query
// rows (one accumulator per score, so a score's summation order does not depend on the group);
// the value kernel keeps 2 x 8 output lanes of up to 4 rows in registers while it walks the
// value rows. Partial vectors (dims not a multiple of 8) go through a zero-padded stack buffer.
#include "kernels/x86/avx2/attention_simd.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/x86/attention_prefetch.h"

namespace dsinfer::kernels::avx2 {
namespace {

constexpr int64_t kLanes = 8;

float HorizontalSum(__m256 v) {
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  const __m128 s1 = _mm_add_ss(s2, _mm_movehdup_ps(s2));
  return _mm_cvtss_f32(s1);
}

__m256 LoadPartialF32(const float* p, int64_t n) {  // n in [1, 8): the rest is zero
  alignas(32) float buf[kLanes] = {};
  std::memcpy(buf, p, static_cast<size_t>(n) * sizeof(float));
  return _mm256_load_ps(buf);
}

// Loads of 8 cache elements widened to float, by storage type.
struct F32Elems {
  using T = float;
  static __m256 Load(const float* p) { return _mm256_loadu_ps(p); }
  static __m256 LoadPartial(const float* p, int64_t n) { return LoadPartialF32(p, n); }
};

struct F16Elems {
  using T = uint16_t;
  static __m256 Load(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static __m256 LoadPartial(const uint16_t* p, int64_t n) {
    alignas(16) uint16_t buf[kLanes] = {};
    std::memcpy(buf, p, static_cast<size_t>(n) * sizeof(uint16_t));
    return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(buf)));
  }
};

// HorizontalSum of x[0..7] as one vector, lane i = HorizontalSum(x[i]) to the bit, in 21
// shuffles and adds instead of 8 x 5.
__m256 Reduce8(const __m256* x) {
  // Lanes i + 4: x[m] in the low 128 bits of a_m, x[m + 4] in the high.
  __m256 a[4];
  for (int m = 0; m < 4; ++m) {
    a[m] = _mm256_add_ps(_mm256_permute2f128_ps(x[m], x[m + 4], 0x20),
                         _mm256_permute2f128_ps(x[m], x[m + 4], 0x31));
  }
  // Within 128 bits: elements 0 + 2 and 1 + 3, then those two.
  const __m256 c0 = _mm256_add_ps(_mm256_unpacklo_ps(a[0], a[1]), _mm256_unpackhi_ps(a[0], a[1]));
  const __m256 c1 = _mm256_add_ps(_mm256_unpacklo_ps(a[2], a[3]), _mm256_unpackhi_ps(a[2], a[3]));
  return _mm256_add_ps(_mm256_shuffle_ps(c0, c1, 0x44), _mm256_shuffle_ps(c0, c1, 0xEE));
}

// The scores of kRows query rows against kKeys consecutive key rows: kRows x kKeys chains, so
// that each q vector loaded from L1 feeds kKeys FMAs, and full tiles (8 chains) reduce in one
// Reduce8. Asks for the same rows of the next block (`next`, or null) a line at a time as it
// goes.
template <class E, int kRows, int kKeys>
void ScoreTile(const float* q, int64_t dim, const typename E::T* k, int64_t k_stride,
               const typename E::T* next, float* s, int64_t s_stride) {
  using T = typename E::T;
  __m256 acc[kRows][kKeys];
  for (int r = 0; r < kRows; ++r) {
    for (int j = 0; j < kKeys; ++j) acc[r][j] = _mm256_setzero_ps();
  }
  int64_t e = 0;
  for (; e + kLanes <= dim; e += kLanes) {
    if (next != nullptr && StartsLine<T, kLanes>(e)) PrefetchColumn<kKeys>(next, k_stride, e);
    __m256 kv[kKeys];
    for (int j = 0; j < kKeys; ++j) kv[j] = E::Load(k + j * k_stride + e);
    for (int r = 0; r < kRows; ++r) {
      __m256 qr = _mm256_loadu_ps(q + r * dim + e);
      __asm__("" : "+x"(qr));  // else GCC folds the load into each FMA: kKeys loads again
      for (int j = 0; j < kKeys; ++j) acc[r][j] = _mm256_fmadd_ps(qr, kv[j], acc[r][j]);
    }
  }
  if (e < dim) {
    if (next != nullptr) PrefetchColumn<kKeys>(next, k_stride, e);
    __m256 kv[kKeys];
    for (int j = 0; j < kKeys; ++j) kv[j] = E::LoadPartial(k + j * k_stride + e, dim - e);
    for (int r = 0; r < kRows; ++r) {
      const __m256 qr = LoadPartialF32(q + r * dim + e, dim - e);
      for (int j = 0; j < kKeys; ++j) acc[r][j] = _mm256_fmadd_ps(qr, kv[j], acc[r][j]);
    }
  }
  if constexpr (kRows * kKeys == 8) {
    alignas(32) float sums[8];
    _mm256_store_ps(sums, Reduce8(&acc[0][0]));  // the 8 accumulators are contiguous
    for (int r = 0; r < kRows; ++r) {
      for (int j = 0; j < kKeys; ++j) s[r * s_stride + j] = sums[r * kKeys + j];
    }
  } else {
    for (int r = 0; r < kRows; ++r) {
      for (int j = 0; j < kKeys; ++j) s[r * s_stride + j] = HorizontalSum(acc[r][j]);
    }
  }
}

// 16 registers: 8 chains, their keys and a q vector fit for 4 rows x 2 keys and 2 x 4; 8 rows
// go as two 4-row tiles, 1 row takes 4 keys. The last n_k % kKeys keys go one at a time. A
// score's chain (FMAs in element order, then HorizontalSum's order) is the same in every tile
// shape, so scores do not depend on how the rows or keys were grouped.
template <class E, int kRows>
void ScoreRows(const float* q, int64_t dim, const typename E::T* k, int64_t k_stride, int64_t n_k,
               const typename E::T* next, float* s, int64_t s_stride) {
  if constexpr (kRows == 8) {
    ScoreRows<E, 4>(q, dim, k, k_stride, n_k, next, s, s_stride);
    ScoreRows<E, 4>(q + 4 * dim, dim, k, k_stride, n_k, nullptr, s + 4 * s_stride, s_stride);
  } else {
    constexpr int kKeys = kRows == 4 ? 2 : 4;
    int64_t t = 0;
    for (; t + kKeys <= n_k; t += kKeys) {
      ScoreTile<E, kRows, kKeys>(q, dim, k + t * k_stride, k_stride,
                                 NextRowsFrom(next, t, k_stride), s + t, s_stride);
    }
    for (; t < n_k; ++t) {
      ScoreTile<E, kRows, 1>(q, dim, k + t * k_stride, k_stride, NextRowsFrom(next, t, k_stride),
                             s + t, s_stride);
    }
  }
}

// acc rows [0, kRows) over output lanes [e, e + kVecs * 8), all full vectors; asks for those
// lanes' lines of the next block's rows (`next`, or null).
template <class E, int kRows, int kVecs>
void AccumulateLanes(const float* p, int64_t p_stride, const typename E::T* v, int64_t v_stride,
                     int64_t n_v, const typename E::T* next, int64_t dim, int64_t e, float* acc) {
  __m256 a[kRows][kVecs];
  for (int r = 0; r < kRows; ++r) {
    for (int j = 0; j < kVecs; ++j) a[r][j] = _mm256_loadu_ps(acc + r * dim + e + j * kLanes);
  }
  for (int64_t t = 0; t < n_v; ++t) {
    if (next != nullptr) PrefetchLines(next + t * v_stride + e, kVecs * kLanes);
    __m256 vv[kVecs];
    for (int j = 0; j < kVecs; ++j) vv[j] = E::Load(v + t * v_stride + e + j * kLanes);
    for (int r = 0; r < kRows; ++r) {
      const __m256 pr = _mm256_broadcast_ss(p + r * p_stride + t);
      for (int j = 0; j < kVecs; ++j) a[r][j] = _mm256_fmadd_ps(pr, vv[j], a[r][j]);
    }
  }
  for (int r = 0; r < kRows; ++r) {
    for (int j = 0; j < kVecs; ++j) _mm256_storeu_ps(acc + r * dim + e + j * kLanes, a[r][j]);
  }
}

template <class E, int kRows>
void AccumulateRows(const float* p, int64_t p_stride, const typename E::T* v, int64_t v_stride,
                    int64_t n_v, const typename E::T* next, int64_t dim, float* acc) {
  int64_t e = 0;
  for (; e + 2 * kLanes <= dim; e += 2 * kLanes) {
    AccumulateLanes<E, kRows, 2>(p, p_stride, v, v_stride, n_v, next, dim, e, acc);
  }
  if (e + kLanes <= dim) {
    AccumulateLanes<E, kRows, 1>(p, p_stride, v, v_stride, n_v, next, dim, e, acc);
    e += kLanes;
  }
  if (e == dim) return;
  if (next != nullptr) {
    for (int64_t t = 0; t < n_v; ++t) PrefetchLines(next + t * v_stride + e, dim - e);
  }
  const int64_t tail = dim - e;
  for (int r = 0; r < kRows; ++r) {
    __m256 a = LoadPartialF32(acc + r * dim + e, tail);
    for (int64_t t = 0; t < n_v; ++t) {
      a = _mm256_fmadd_ps(_mm256_broadcast_ss(p + r * p_stride + t),
                          E::LoadPartial(v + t * v_stride + e, tail), a);
    }
    alignas(32) float buf[kLanes];
    _mm256_store_ps(buf, a);
    std::memcpy(acc + r * dim + e, buf, static_cast<size_t>(tail) * sizeof(float));
  }
}

// exp(x) for x <= 0 (Cephes expf): x = n ln2 + r with |r| <= ln2 / 2, exp(r) by a degree-6
// polynomial, times 2^n built in the exponent field. The clamps keep n in [-126, 0] (a normal
// 2^n) even for the zero padding of a partial vector.
__m256 ExpNonPositive(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_setzero_ps());
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_add_ps(_mm256_fmadd_ps(y, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
  const __m256i bias = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
  return _mm256_mul_ps(y, _mm256_castsi256_ps(_mm256_slli_epi32(bias, 23)));
}

// The largest of x[0..n), n >= 1 (max is exact: the order does not matter).
float RowMax(const float* x, int64_t n) {
  int64_t i = 0;
  float best = x[0];
  if (n >= kLanes) {
    __m256 m = _mm256_loadu_ps(x);
    for (i = kLanes; i + kLanes <= n; i += kLanes) m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
    alignas(32) float lanes[kLanes];
    _mm256_store_ps(lanes, m);
    for (const float v : lanes) best = v > best ? v : best;
  }
  for (; i < n; ++i) best = x[i] > best ? x[i] : best;
  return best;
}

// x[i] *= f for i < n.
void ScaleRow(float* x, int64_t n, float f) {
  const __m256 vf = _mm256_set1_ps(f);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vf));
  }
  for (; i < n; ++i) x[i] *= f;
}

// x[i] = exp(x[i] - max) for i < n, returning their sum (AttentionBlockSoftmax's exps).
float ExpSubSum(float* x, int64_t n, float max) {
  const __m256 m = _mm256_set1_ps(max);
  __m256 sum8 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const __m256 y = ExpNonPositive(_mm256_sub_ps(_mm256_loadu_ps(x + i), m));
    _mm256_storeu_ps(x + i, y);
    sum8 = _mm256_add_ps(sum8, y);
  }
  float sum = HorizontalSum(sum8);
  if (i < n) {
    alignas(32) float buf[kLanes];
    _mm256_store_ps(buf, ExpNonPositive(_mm256_sub_ps(LoadPartialF32(x + i, n - i), m)));
    for (int64_t j = 0; j < n - i; ++j) {
      x[i + j] = buf[j];
      sum += buf[j];
    }
  }
  return sum;
}

}  // namespace

#include "kernels/x86/attention_rows_body.inc"

}  // namespace dsinfer::kernels::avx2
