// AVX2 (+ F16C, FMA) bodies of the float dots: F32, F16 weights with F16 activations and BF16
// weights with BF16 activations.
//
// Conversion is exact: F16C's vcvtph2ps for F16, and for BF16 the 16 bits moved to the top of
// a float (the low 16 bits of a 32-bit lane shifted up give the even elements, the high 16
// bits masked in place the odd ones; weights and activations are split alike, so pairs meet).
// The products go into FMAs over four 8-lane float accumulators (32 elements a step), a
// remainder of fewer than 8 (or 16) elements into a scalar FMA after the horizontal sum.
//
// Numerics: the reference rounds each product to float and sums in double; here products are
// unrounded (FMA) and sums are float. A product of two F16 or two BF16 values is exact in
// float unless it over- or underflows, so the difference is the float summation error. A lane
// takes at most n / 32 + 3 adds, the tree 5, the scalar tail 15, the reference's final rounding
// one more: |simd - reference| <= (n / 32 + 24) * 2^-24 * sum_i |w_i * a_i|, and far less on
// random rows. F32 products are not exact in float, and the reference rounds each one: that
// adds at most 2^-24 |w_i * a_i| per element, one more unit in the same bound (its tail is
// shorter, under 8). A product that overflows float is +-inf in the reference but may stay finite
// inside an FMA whose accumulator cancels it; such a row is meaningless either way.
//
// Thread safety: pure functions over caller-owned memory.
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "kernels/x86/avx2/kernels.h"
#include "kernels/x86/read_ahead.h"
#include "quant/half.h"

namespace dsinfer::kernels::avx2 {
namespace {

float HorizontalSum(__m256 v) {
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

// Eight halves from p as floats.
__m256 LoadF16(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

__m256i Load256(const uint16_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// Of 16 bf16 values: elements 0, 2, .., 14 and 1, 3, .., 15 as floats.
__m256 EvenBf16(__m256i v) { return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)); }
__m256 OddBf16(__m256i v) {
  return _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32(static_cast<int>(0xFFFF0000U))));
}

// The dot of two rows of n elements that `load8` widens to floats 8 at a time and `element`
// one at a time: four accumulators over 32 elements a step, then 8 at a time, then a scalar
// FMA tail after the horizontal sum.
template <typename T, typename Load8, typename Element>
float DotOfFloats(int64_t n, const T* a, const T* b, Load8 load8, Element element) {
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps();
  __m256 acc3 = _mm256_setzero_ps();
  const bool streamed = IsStreamedRow<T>(n);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    if (streamed) PrefetchStepAhead<static_cast<int>(32 * sizeof(T) / 64)>(a + i);
    acc0 = _mm256_fmadd_ps(load8(a + i), load8(b + i), acc0);
    acc1 = _mm256_fmadd_ps(load8(a + i + 8), load8(b + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(load8(a + i + 16), load8(b + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(load8(a + i + 24), load8(b + i + 24), acc3);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(load8(a + i), load8(b + i), acc0);
  float sum = HorizontalSum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
  for (; i < n; ++i) sum = std::fma(element(a[i]), element(b[i]), sum);
  return sum;
}

}  // namespace

float DotF32(int64_t n, const void* w, const void* x) {
  return DotOfFloats(
      n, static_cast<const float*>(w), static_cast<const float*>(x),
      [](const float* p) { return _mm256_loadu_ps(p); }, [](float v) { return v; });
}

float DotF16(int64_t n, const void* w, const void* x_f16) {
  return DotOfFloats(n, static_cast<const uint16_t*>(w), static_cast<const uint16_t*>(x_f16),
                     LoadF16, [](uint16_t h) { return _cvtsh_ss(h); });
}

float DotBF16(int64_t n, const void* w, const void* x_bf16) {
  const auto* a = static_cast<const uint16_t*>(w);
  const auto* b = static_cast<const uint16_t*>(x_bf16);
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps();
  __m256 acc3 = _mm256_setzero_ps();
  const bool streamed = IsStreamedRow<uint16_t>(n);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    if (streamed) PrefetchStepAhead<1>(a + i);
    const __m256i wa = Load256(a + i);
    const __m256i xa = Load256(b + i);
    const __m256i wb = Load256(a + i + 16);
    const __m256i xb = Load256(b + i + 16);
    acc0 = _mm256_fmadd_ps(EvenBf16(wa), EvenBf16(xa), acc0);
    acc1 = _mm256_fmadd_ps(OddBf16(wa), OddBf16(xa), acc1);
    acc2 = _mm256_fmadd_ps(EvenBf16(wb), EvenBf16(xb), acc2);
    acc3 = _mm256_fmadd_ps(OddBf16(wb), OddBf16(xb), acc3);
  }
  if (i + 16 <= n) {
    const __m256i wa = Load256(a + i);
    const __m256i xa = Load256(b + i);
    acc0 = _mm256_fmadd_ps(EvenBf16(wa), EvenBf16(xa), acc0);
    acc1 = _mm256_fmadd_ps(OddBf16(wa), OddBf16(xa), acc1);
    i += 16;
  }
  float sum = HorizontalSum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
  for (; i < n; ++i) sum = std::fma(Bf16ToFp32(a[i]), Bf16ToFp32(b[i]), sum);
  return sum;
}

}  // namespace dsinfer::kernels::avx2
