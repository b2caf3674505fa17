// AVX-512 (F + BW) bodies of the float dots: F32, F16 weights with F16 activations and BF16
// weights with BF16 activations. No AVX512-BF16 (vdpbf16ps) here: the avx512 level does
// not guarantee it (kernels.h), and it would also round the activations' products differently.
//
// Conversion is exact: vcvtph2ps for F16, and for BF16 the 16 bits moved to the top of a float
// (the low 16 bits of a 32-bit lane shifted up give the even elements, the high 16 bits masked
// in place the odd ones; weights and activations are split alike, so pairs meet). The products
// go into FMAs over four float accumulators; the remainder takes smaller steps and then one
// masked step, whose masked-off lanes load as zeros. F16 and BF16 stay at 256 bits (32
// elements a step): on AMD Zen 4 the 512-bit vcvtph2ps ran the F16 dot at 60% of the 256-bit
// one's speed on cache-resident rows, and on AMD Zen 5 the 1.5B shape's BF16 matrices from
// memory, two threads, read 44.8-47.0 GB/s with 512-bit steps, 56.1-60.4 with the avx2 dot's
// 256-bit ones and 58.8 with these (bench/README.md). F32 uses 512 bits (64 elements a step).
//
// Numerics: the reference rounds each product to float and sums in double; here products are
// unrounded (FMA) and sums are float. A product of two F16 or two BF16 values is exact in
// float unless it over- or underflows, so the difference is the float summation error. A lane
// takes at most n / 32 + 4 adds, the tree 6 and the reference's final rounding one more:
// |simd - reference| <= (n / 32 + 11) * 2^-24 * sum_i |w_i * a_i|, and far less on random
// rows. F32 products are not exact in float, and the reference rounds each one: that adds at
// most 2^-24 |w_i * a_i| per element, one more unit in the same bound. A product that overflows
// float is +-inf in the reference but may stay finite inside an FMA whose accumulator cancels it;
// such a row is meaningless either way.
//
// Thread safety: pure functions over caller-owned memory.
#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/avx512/kernels.h"
#include "kernels/x86/read_ahead.h"

namespace dsinfer::kernels::avx512 {
namespace {

// Eight halves from p as floats.
__m256 LoadF16(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

float HorizontalSum(__m256 v) {
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

// Of 16 bf16 values: elements 0, 2, .., 14 and 1, 3, .., 15 as floats.
__m256 EvenBf16(__m256i v) { return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)); }
__m256 OddBf16(__m256i v) {
  return _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32(static_cast<int>(0xFFFF0000U))));
}

__m256i Load256(const uint16_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

}  // namespace

float DotF32(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const float*>(w);
  const auto* b = static_cast<const float*>(x);
  __m512 acc0 = _mm512_setzero_ps();
  __m512 acc1 = _mm512_setzero_ps();
  __m512 acc2 = _mm512_setzero_ps();
  __m512 acc3 = _mm512_setzero_ps();
  const bool streamed = IsStreamedRow<float>(n);
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    if (streamed) PrefetchStepAhead<4>(a + i);
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
    acc2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), acc2);
    acc3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), acc3);
  }
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
  }
  if (i < n) {
    const auto mask = static_cast<__mmask16>((1U << (n - i)) - 1);
    acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, a + i), _mm512_maskz_loadu_ps(mask, b + i),
                           acc1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

float DotF16(int64_t n, const void* w, const void* x_f16) {
  const auto* a = static_cast<const uint16_t*>(w);
  const auto* b = static_cast<const uint16_t*>(x_f16);
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps();
  __m256 acc3 = _mm256_setzero_ps();
  const bool streamed = IsStreamedRow<uint16_t>(n);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    if (streamed) PrefetchStepAhead<1>(a + i);
    acc0 = _mm256_fmadd_ps(LoadF16(a + i), LoadF16(b + i), acc0);
    acc1 = _mm256_fmadd_ps(LoadF16(a + i + 8), LoadF16(b + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(LoadF16(a + i + 16), LoadF16(b + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(LoadF16(a + i + 24), LoadF16(b + i + 24), acc3);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(LoadF16(a + i), LoadF16(b + i), acc0);
  if (i < n) {
    const auto mask = static_cast<__mmask8>((1U << (n - i)) - 1);
    acc1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_maskz_loadu_epi16(mask, a + i)),
                           _mm256_cvtph_ps(_mm_maskz_loadu_epi16(mask, b + i)), acc1);
  }
  return HorizontalSum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

float DotBF16(int64_t n, const void* w, const void* x_bf16) {
  const auto* a = static_cast<const uint16_t*>(w);
  const auto* b = static_cast<const uint16_t*>(x_bf16);
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps();
  __m256 acc3 = _mm256_setzero_ps();
  const auto step = [&](__m256i wv, __m256i xv, __m256& even, __m256& odd) {
    even = _mm256_fmadd_ps(EvenBf16(wv), EvenBf16(xv), even);
    odd = _mm256_fmadd_ps(OddBf16(wv), OddBf16(xv), odd);
  };
  const bool streamed = IsStreamedRow<uint16_t>(n);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    if (streamed) PrefetchStepAhead<1>(a + i);
    step(Load256(a + i), Load256(b + i), acc0, acc1);
    step(Load256(a + i + 16), Load256(b + i + 16), acc2, acc3);
  }
  if (i + 16 <= n) {
    step(Load256(a + i), Load256(b + i), acc0, acc1);
    i += 16;
  }
  if (i < n) {
    const auto mask = static_cast<__mmask16>((1U << (n - i)) - 1);
    step(_mm256_maskz_loadu_epi16(mask, a + i), _mm256_maskz_loadu_epi16(mask, b + i), acc2, acc3);
  }
  return HorizontalSum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

}  // namespace dsinfer::kernels::avx512
