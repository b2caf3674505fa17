// AVX-512 (VNNI) primitives of the remaining 32-element formats: Q5_0 and IQ4_NL with Q8_0
// activations, Q4_1 and Q5_1 with Q8_1 activations (Q8_0 / Q4_0 are in legacy_quants.cc);
// the dot loops are the shared ones of x86/legacy_quants_more_body.inc.
//
// Q5's fifth bit j is bit j of qh, used directly as the mask register of a byte add. The
// exact int32 lane sums are one 256-bit vpdpbusd (unsigned x signed bytes):
//   unsigned levels (Q4_1: 0..15, Q5_1: 0..31) go in as they are;
//   signed levels (Q5_0: q - 16, IQ4_NL: code book values -127..113) by the sign trick of
//     legacy_quants.cc: |x| as u8 times y carrying x's sign. Its limit is a -128 activation
//     byte, which no Q8_0 quantiser writes.
// As in legacy_quants.cc, one block per 256-bit register: on this Zen 4 that beat pairing two
// blocks in a 512-bit one. Only the float summation order differs from the reference.
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

// The 32-bit field qh as a byte mask: bit j selects byte j.
__mmask32 HighBits(const uint8_t* qh) {
  uint32_t bits = 0;
  std::memcpy(&bits, qh, sizeof(bits));
  return bits;
}

// Q5 levels: the nibble plus 16 where the bit is set (Q5_1, 0..31), or minus 16 where it is
// clear (Q5_0, -16..15).
__m256i Q5UnsignedLevels(__m256i nibbles, const uint8_t* qh) {
  return _mm256_mask_add_epi8(nibbles, HighBits(qh), nibbles, _mm256_set1_epi8(16));
}
__m256i Q5SignedLevels(__m256i nibbles, const uint8_t* qh) {
  return _mm256_mask_sub_epi8(nibbles, ~HighBits(qh), nibbles, _mm256_set1_epi8(16));
}

// The int32 lane sums of x[i] * y[i] over 32 bytes: 8 lanes of 4 products each.
__m256i DotSigned(__m256i x, __m256i y) {
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(x, x),
                             _mm256_sign_epi8(y, x));
}
__m256i DotUnsigned(__m256i x, __m256i y) {
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), x, y);
}

}  // namespace

#include "kernels/x86/legacy_quants_more_body.inc"

}  // namespace dsinfer::kernels::avx512
