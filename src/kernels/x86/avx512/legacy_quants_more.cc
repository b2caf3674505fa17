// AVX-512 (VNNI) bodies of the remaining 32-element formats: Q5_0 and IQ4_NL with Q8_0
// activations, Q4_1 and Q5_1 with Q8_1 activations (Q8_0 / Q4_0 are in legacy_quants.cc).
//
// Per block, the 32 weight levels are built as bytes in element order (low nibbles are elements
// 0..15, high nibbles 16..31; Q5's fifth bit j is bit j of qh, used directly as the mask
// register of a byte add) and summed with the activation bytes exactly in int32 lanes by
// one 256-bit vpdpbusd (unsigned x signed bytes):
//   unsigned levels (Q4_1: 0..15, Q5_1: 0..31) go in as they are;
//   signed levels (Q5_0: q - 16, IQ4_NL: code book values -127..113) by the sign trick of
//     legacy_quants.cc: |x| as u8 times y carrying x's sign. Its limit is a -128 activation
//     byte, which no Q8_0 quantiser writes.
// As in legacy_quants.cc, one block per 256-bit register: on this Zen 4 that beat pairing two
// blocks in a 512-bit one. The int32 lanes are scaled by d_x * d_y into float lanes, and
// Q4_1 / Q5_1 add the min term m_x * s_y (s_y = d_y * sum(q_y), stored in the activation
// block) in scalar floats. Only the float summation order differs from the reference.
//
// Thread safety: pure functions over caller-owned memory.
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/x86/avx512/kernels.h"
#include "quant/blocks.h"

namespace dsinfer::kernels::avx512 {
namespace {

float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

float HorizontalSum(__m256 v) {
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

__m256i Load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// The 32 nibbles of a block's qs in element order, as bytes 0..15.
__m256i Nibbles(const uint8_t* qs) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed),
                          _mm256_set1_epi8(0x0F));
}

// The 32-bit field qh as a byte mask: bit j selects byte j.
__mmask32 HighBits(const uint8_t* qh) {
  uint32_t bits = 0;
  std::memcpy(&bits, qh, sizeof(bits));
  return bits;
}

// Q5 levels: the nibble plus 16 where the bit is set (Q5_1, 0..31), or minus 16 where it is
// clear (Q5_0, -16..15).
__m256i Q5UnsignedLevels(const uint8_t* qs, const uint8_t* qh) {
  const __m256i nibbles = Nibbles(qs);
  return _mm256_mask_add_epi8(nibbles, HighBits(qh), nibbles, _mm256_set1_epi8(16));
}
__m256i Q5SignedLevels(const uint8_t* qs, const uint8_t* qh) {
  const __m256i nibbles = Nibbles(qs);
  return _mm256_mask_sub_epi8(nibbles, ~HighBits(qh), nibbles, _mm256_set1_epi8(16));
}

__m256i Iq4NlLevels(const uint8_t* qs) {
  const __m128i book = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues));
  return _mm256_shuffle_epi8(_mm256_set_m128i(book, book), Nibbles(qs));
}

// The int32 lane sums of x[i] * y[i] over 32 bytes: 8 lanes of 4 products each.
__m256i DotSigned(__m256i x, __m256i y) {
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(x, x),
                             _mm256_sign_epi8(y, x));
}
__m256i DotUnsigned(__m256i x, __m256i y) {
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), x, y);
}

// sum_i d_x d_y * (levels(x[i]) . y[i]) with Q8_0 activations, two blocks per step into two
// accumulators (one would be bound by the FMA latency).
template <typename Block, typename LevelsFn>
float DotWithQ8_0(int64_t nb, const Block* x, const BlockQ8_0* y, LevelsFn levels) {
  const auto step = [&](int64_t i, __m256 acc) {
    const __m256i p = DotSigned(levels(x[i]), Load256(y[i].qs));
    const __m256 d = _mm256_set1_ps(HalfToFloat(x[i].d) * HalfToFloat(y[i].d));
    return _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc);
  };
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 1 < nb; i += 2) {
    acc0 = step(i, acc0);
    acc1 = step(i + 1, acc1);
  }
  if (i < nb) acc0 = step(i, acc0);
  return HorizontalSum(_mm256_add_ps(acc0, acc1));
}

// The same with Q8_1 activations and unsigned levels, plus the min term m_x * s_y per block.
template <typename Block, typename LevelsFn>
float DotWithQ8_1(int64_t nb, const Block* x, const BlockQ8_1* y, LevelsFn levels) {
  const auto step = [&](int64_t i, __m256 acc) {
    const __m256i p = DotUnsigned(levels(x[i]), Load256(y[i].qs));
    const __m256 d = _mm256_set1_ps(HalfToFloat(x[i].d) * HalfToFloat(y[i].d));
    return _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc);
  };
  const auto min_term = [&](int64_t i, float sum) {
    return std::fma(HalfToFloat(x[i].m), HalfToFloat(y[i].s), sum);
  };
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  float mins0 = 0.0f;
  float mins1 = 0.0f;
  int64_t i = 0;
  for (; i + 1 < nb; i += 2) {
    acc0 = step(i, acc0);
    acc1 = step(i + 1, acc1);
    mins0 = min_term(i, mins0);
    mins1 = min_term(i + 1, mins1);
  }
  if (i < nb) {
    acc0 = step(i, acc0);
    mins0 = min_term(i, mins0);
  }
  return HorizontalSum(_mm256_add_ps(acc0, acc1)) + (mins0 + mins1);
}

}  // namespace

float DotQ4_1(int64_t n, const void* w, const void* q8_1) {
  return DotWithQ8_1(n / kQK, static_cast<const BlockQ4_1*>(w), static_cast<const BlockQ8_1*>(q8_1),
                     [](const BlockQ4_1& b) { return Nibbles(b.qs); });
}

float DotQ5_0(int64_t n, const void* w, const void* q8_0) {
  return DotWithQ8_0(n / kQK, static_cast<const BlockQ5_0*>(w), static_cast<const BlockQ8_0*>(q8_0),
                     [](const BlockQ5_0& b) { return Q5SignedLevels(b.qs, b.qh); });
}

float DotQ5_1(int64_t n, const void* w, const void* q8_1) {
  return DotWithQ8_1(n / kQK, static_cast<const BlockQ5_1*>(w), static_cast<const BlockQ8_1*>(q8_1),
                     [](const BlockQ5_1& b) { return Q5UnsignedLevels(b.qs, b.qh); });
}

float DotIQ4_NL(int64_t n, const void* w, const void* q8_0) {
  return DotWithQ8_0(n / kQK, static_cast<const BlockIQ4_NL*>(w),
                     static_cast<const BlockQ8_0*>(q8_0),
                     [](const BlockIQ4_NL& b) { return Iq4NlLevels(b.qs); });
}

}  // namespace dsinfer::kernels::avx512
