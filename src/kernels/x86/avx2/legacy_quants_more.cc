// AVX2 bodies of the remaining 32-element formats: Q5_0 and IQ4_NL with Q8_0 activations,
// Q4_1 and Q5_1 with Q8_1 activations (the Q8_0 / Q4_0 ones are in legacy_quants.cc).
//
// Per block, the 32 weight levels are built as bytes in element order (low nibbles are elements
// 0..15, high nibbles 16..31; Q5's fifth bit j comes from bit j of qh) and multiplied with the
// activation bytes exactly in int32 lanes:
//   signed levels (Q5_0: q - 16 in -16..15, IQ4_NL: code book values in -127..113) by the sign
//     trick of legacy_quants.cc (|x| as u8 times y carrying x's sign, vpmaddubsw, vpmaddwd). A
//     pair sum is at most 2 * 127 * 127 < 32767, so vpmaddubsw never saturates; the trick's
//     limit is a -128 activation, which no Q8_0 quantiser writes.
//   unsigned levels (Q4_1: 0..15, Q5_1: 0..31) by vpmaddubsw directly (pairs <= 2 * 31 * 128).
// The int32 lanes are then scaled by d_x * d_y into float lanes, and Q4_1 / Q5_1 add the min
// term m_x * s_y (s_y = d_y * sum(q_y), stored in the activation block) in scalar floats. Only
// the float summation order differs from the reference.
//
// Thread safety: pure functions over caller-owned memory.
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/x86/avx2/kernels.h"
#include "quant/blocks.h"

namespace dsinfer::kernels::avx2 {
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

// 0xFF in byte j where bit j of the 32-bit field qh is set, 0 elsewhere.
__m256i BitsToBytes(const uint8_t* qh) {
  uint32_t bits = 0;
  std::memcpy(&bits, qh, sizeof(bits));
  // Byte j gets byte j / 8 of the field; then every bit but bit j % 8 is set, so the byte is
  // all ones exactly when that bit was.
  const __m256i spread =
      _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)),
                          _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
                                             0x0202020202020202, 0x0303030303030303));
  const __m256i all_but_bit_j = _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe);
  return _mm256_cmpeq_epi8(_mm256_or_si256(spread, all_but_bit_j), _mm256_set1_epi64x(-1));
}

// Q5 levels: the nibbles with bit 4 from qh, unsigned (Q5_1) or minus 16 (Q5_0, where a clear
// bit 4 makes the byte nibble | 0xF0, i.e. nibble - 16).
__m256i Q5UnsignedLevels(const uint8_t* qs, const uint8_t* qh) {
  return _mm256_or_si256(Nibbles(qs), _mm256_and_si256(BitsToBytes(qh), _mm256_set1_epi8(0x10)));
}
__m256i Q5SignedLevels(const uint8_t* qs, const uint8_t* qh) {
  return _mm256_or_si256(
      Nibbles(qs), _mm256_andnot_si256(BitsToBytes(qh), _mm256_set1_epi8(static_cast<char>(0xF0))));
}

__m256i Iq4NlLevels(const uint8_t* qs) {
  const __m128i book = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues));
  return _mm256_shuffle_epi8(_mm256_set_m128i(book, book), Nibbles(qs));
}

// The int32 lane sums of x[i] * y[i] over 32 bytes: 8 lanes of 4 products each.
__m256i DotSigned(__m256i x, __m256i y) {
  const __m256i ax = _mm256_sign_epi8(x, x);
  const __m256i sy = _mm256_sign_epi8(y, x);
  return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
}
__m256i DotUnsigned(__m256i x, __m256i y) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(x, y), _mm256_set1_epi16(1));
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

}  // namespace dsinfer::kernels::avx2
