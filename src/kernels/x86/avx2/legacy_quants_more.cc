// AVX2 primitives of the remaining 32-element formats: Q5_0 and IQ4_NL with Q8_0 activations,
// Q4_1 and Q5_1 with Q8_1 activations (the Q8_0 / Q4_0 ones are in legacy_quants.cc); the
// dot loops are the shared ones of x86/legacy_quants_more_body.inc.
//
// Q5's fifth bit j comes from bit j of qh, spread to a byte mask. The exact int32 lane sums:
//   signed levels (Q5_0: q - 16 in -16..15, IQ4_NL: code book values in -127..113) by the sign
//     trick of legacy_quants.cc (|x| as u8 times y carrying x's sign, vpmaddubsw, vpmaddwd). A
//     pair sum is at most 2 * 127 * 127 < 32767, so vpmaddubsw never saturates; the trick's
//     limit is a -128 activation, which no Q8_0 quantiser writes.
//   unsigned levels (Q4_1: 0..15, Q5_1: 0..31) by vpmaddubsw directly (pairs <= 2 * 31 * 128).
// Only the float summation order differs from the reference.
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
__m256i Q5UnsignedLevels(__m256i nibbles, const uint8_t* qh) {
  return _mm256_or_si256(nibbles, _mm256_and_si256(BitsToBytes(qh), _mm256_set1_epi8(0x10)));
}
__m256i Q5SignedLevels(__m256i nibbles, const uint8_t* qh) {
  return _mm256_or_si256(
      nibbles, _mm256_andnot_si256(BitsToBytes(qh), _mm256_set1_epi8(static_cast<char>(0xF0))));
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

}  // namespace

#include "kernels/x86/legacy_quants_more_body.inc"

}  // namespace dsinfer::kernels::avx2
