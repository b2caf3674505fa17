// The 12-byte scale fields of the K-quants. Q4_K and Q5_K: eight 6-bit (scale, min) pairs, one
// per 32-element sub-block (ggml's get_scale_min_k4 and the packing loop of
// quantize_row_q4_K_ref); Q3_K's sixteen signed 6-bit scales are at the end of the file.
//
//   byte    bits 7..6        bits 5..0
//   0..3    scale[4+j] hi2   scale[j]        (j = 0..3)
//   4..7    min[4+j]   hi2   min[j]
//   8..11   min[4+j] lo4 (bits 7..4) | scale[4+j] lo4 (bits 3..0)
//
// The first four pairs sit whole in the low six bits of bytes 0..7; the last four are split,
// their low nibbles in bytes 8..11 and their top two bits in the spare bits of bytes 0..7.
// IQ4_XS's eight 6-bit scales (scales_l, scales_h) are at the very end.
//
// Thread safety: pure functions over caller-owned memory.
#ifndef DSINFER_QUANT_K_SCALE_PACKING_H_
#define DSINFER_QUANT_K_SCALE_PACKING_H_

#include <cstdint>
#include <cstring>

#include "quant/blocks.h"

namespace dsinfer::quant_ref {

inline constexpr int kKSubBlocks = kQK_K / 32;  // (scale, min) pairs per super-block

struct KScaleMin {
  uint8_t scale;  // 0..63
  uint8_t min;    // 0..63
};

// Pair j (0..7) of a packed scale field.
inline KScaleMin UnpackScaleMinK4(int j, const uint8_t* packed) {
  if (j < 4) {
    return {.scale = static_cast<uint8_t>(packed[j] & 63),
            .min = static_cast<uint8_t>(packed[j + 4] & 63)};
  }
  return {.scale = static_cast<uint8_t>((packed[j + 4] & 0x0F) | ((packed[j - 4] >> 6) << 4)),
          .min = static_cast<uint8_t>((packed[j + 4] >> 4) | ((packed[j] >> 6) << 4))};
}

// Writes all eight pairs (each value already clamped to 0..63) over `packed`.
inline void PackScaleMinK4(const uint8_t scales[kKSubBlocks], const uint8_t mins[kKSubBlocks],
                           uint8_t packed[kKScaleSize]) {
  for (int j = 0; j < 4; ++j) {
    packed[j] = scales[j];
    packed[j + 4] = mins[j];
  }
  for (int j = 4; j < kKSubBlocks; ++j) {
    packed[j + 4] = static_cast<uint8_t>((scales[j] & 0x0F) | ((mins[j] & 0x0F) << 4));
    packed[j - 4] |= static_cast<uint8_t>((scales[j] >> 4) << 6);
    packed[j] |= static_cast<uint8_t>((mins[j] >> 4) << 6);
  }
}

// All eight pairs at once, four to a 32-bit word, for SIMD bodies: words[0] holds the scales
// of sub-blocks 0..3 (one per byte), words[1] those of 4..7, words[2] and words[3] the mins.
// Byte k of the result equals UnpackScaleMinK4 of the matching sub-block.
inline void UnpackScalesMinsK4Words(const uint8_t* packed, uint32_t words[4]) {
  uint32_t w[3];
  std::memcpy(w, packed, sizeof(w));
  words[0] = w[0] & 0x3f3f3f3fU;
  words[1] = (w[2] & 0x0f0f0f0fU) | ((w[0] >> 2) & 0x30303030U);
  words[2] = w[1] & 0x3f3f3f3fU;
  words[3] = ((w[2] >> 4) & 0x0f0f0f0fU) | ((w[1] >> 2) & 0x30303030U);
}

// Q3_K's 12-byte scale field: sixteen signed 6-bit scales, one per 16-element sub-block, stored
// as scale + 32. Scale k's low nibble is in byte k % 8 (its high nibble for k >= 8), its top two
// bits in byte 8 + k % 4 at bit 2 * (k / 4).
inline int UnpackScaleQ3K(int k, const uint8_t* packed) {
  const int lo4 = k < 8 ? (packed[k] & 0xF) : (packed[k - 8] >> 4);
  const int hi2 = (packed[8 + k % 4] >> (2 * (k / 4))) & 3;
  return (lo4 | (hi2 << 4)) - 32;
}

// Writes all sixteen scales (each in -32..31) over `packed`.
inline void PackScalesQ3K(const int8_t scales[16], uint8_t packed[12]) {
  std::memset(packed, 0, 12);
  for (int k = 0; k < 16; ++k) {
    const int l = scales[k] + 32;
    packed[k % 8] = static_cast<uint8_t>(packed[k % 8] | ((l & 0xF) << (k < 8 ? 0 : 4)));
    packed[8 + k % 4] = static_cast<uint8_t>(packed[8 + k % 4] | ((l >> 4) << (2 * (k / 4))));
  }
}

// IQ4_XS: the stored 6-bit scale ls of sub-block ib (0..63; d multiplies ls - 32), its low
// nibble at nibble ib % 2 of scales_l[ib / 2], its top two bits at bits 2 ib of scales_h.
inline int UnpackScaleIQ4_XS(int ib, const BlockIQ4_XS& b) {
  return ((b.scales_l[ib / 2] >> (4 * (ib % 2))) & 0x0F) | (((b.scales_h >> (2 * ib)) & 3) << 4);
}

inline void PackScalesIQ4_XS(const uint8_t ls[kQK_K / 32], BlockIQ4_XS& b) {
  b.scales_h = 0;
  for (uint8_t& l : b.scales_l) l = 0;
  for (int ib = 0; ib < kQK_K / 32; ++ib) {
    b.scales_l[ib / 2] |= static_cast<uint8_t>((ls[ib] & 0x0F) << (4 * (ib % 2)));
    b.scales_h |= static_cast<uint16_t>((ls[ib] >> 4) << (2 * ib));
  }
}

}  // namespace dsinfer::quant_ref

#endif  // DSINFER_QUANT_K_SCALE_PACKING_H_
