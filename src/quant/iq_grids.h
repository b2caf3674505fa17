// The code books of ggml's lattice ("i-quant") formats that dsinfer reads: IQ2_XXS, IQ2_XS,
// IQ2_S, IQ3_XXS, IQ3_S and IQ1_S / IQ1_M. A group of 8 weights is one entry of a fixed grid
// (IQ3: two entries of 4) times a block scale. The IQ2 and IQ3 grids hold magnitudes and the
// block adds a sign per weight: IQ2_XXS, IQ2_XS and IQ3_XXS store 7 bits per group, the 8th
// implied by even parity, IQ2_S and IQ3_S all 8. IQ1_S / IQ1_M's grid holds signed levels and
// the block adds a shift of +-1/8 per group.
//
// Thread safety: constant data.
#ifndef DSINFER_QUANT_IQ_GRIDS_H_
#define DSINFER_QUANT_IQ_GRIDS_H_

#include <array>
#include <bit>
#include <cstdint>

namespace dsinfer {

// IQ2_XXS: 8 magnitudes per entry, each 8, 25 or 43 (byte j is element j).
const std::array<uint64_t, 256>& Iq2xxsGrid();
// IQ1_S and IQ1_M: 8 levels per entry, each -1, 0 or +1 as int8 (byte j is element j).
const std::array<uint64_t, 2048>& Iq1sGrid();
// IQ2_XS and IQ2_S (iq2_grids.cc): as IQ2_XXS's, 512 and 1024 entries.
const std::array<uint64_t, 512>& Iq2xsGrid();
const std::array<uint64_t, 1024>& Iq2sGrid();
// IQ3_XXS and IQ3_S (iq3_grids.cc): 4 magnitudes per entry (byte j is element j of a half
// group), IQ3_XXS's 4, 12, .., 52 and 62, IQ3_S's odd 1..15.
const std::array<uint32_t, 256>& Iq3xxsGrid();
const std::array<uint32_t, 512>& Iq3sGrid();

// The shift every IQ1_S / IQ1_M group adds to its grid levels, in units of the group's scale.
inline constexpr float kIq1Delta = 0.125F;

// IQ2_XXS's 7 stored sign bits of a group, completed by the 8th that makes the number of
// negative elements even (ggml's ksigns_iq2xs): bit j set means element j is negated.
constexpr uint8_t Iq2Signs(uint32_t seven_bits) {
  const uint32_t s = seven_bits & 127U;
  return static_cast<uint8_t>(s | ((std::popcount(s) & 1U) << 7));
}

// IQ1_M has no d field: its f16 d is the top nibbles of the four u16 of `scales`, lowest
// nibble first. The bits of d, and the four words with d's bits replaced.
constexpr uint16_t Iq1mDBits(const uint16_t (&words)[4]) {
  return static_cast<uint16_t>((words[0] >> 12) | ((words[1] >> 8) & 0x00F0) |
                               ((words[2] >> 4) & 0x0F00) | (words[3] & 0xF000));
}
constexpr void SetIq1mDBits(uint16_t (&words)[4], uint16_t d) {
  for (int k = 0; k < 4; ++k) {
    words[k] = static_cast<uint16_t>((words[k] & 0x0FFF) | (((d >> (4 * k)) & 0xF) << 12));
  }
}

// Iq2Signs as 8 bytes per 7-bit index, 0xFF where the element is negated (byte j: element j),
// for SIMD bodies that load a group's signs as one u64.
inline constexpr std::array<uint64_t, 128> kIq2SignMasks = [] {
  std::array<uint64_t, 128> masks{};
  for (uint32_t s = 0; s < 128; ++s) {
    for (int j = 0; j < 8; ++j) {
      if (((Iq2Signs(s) >> j) & 1U) != 0) masks[s] |= uint64_t{0xFF} << (8 * j);
    }
  }
  return masks;
}();

}  // namespace dsinfer

#endif  // DSINFER_QUANT_IQ_GRIDS_H_
