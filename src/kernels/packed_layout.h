// Row-interleaved ("x8") layouts of quantised weights for the decode matvec: eight consecutive
// rows stored block by block, so that one vector load holds the same 4 elements of 8 rows
// and one integer dot instruction advances 8 rows against a broadcast activation word, and
// the 8 rows' block scales are one contiguous load. In ggml's row-major layout the same work
// needs a horizontal reduction and a scalar half->float per row and block, which made Q4_0
// and Q4_K compute-bound at ~0.4-0.5 of the memory bandwidth (bench/README.md).
//
// Group g holds rows 8g..8g+7; within a group, one packed block per weight block index:
//
//   Q4_0x8 (144 B = 8 x 18):  d[8] (f16) | qs[4][8][4]: for k-group j (0..3), row r, the
//       row's qs bytes 4j..4j+3 unchanged (low nibbles: elements 4j.., high: 16+4j..)
//   Q5_0x8 (176 B = 8 x 22):  d[8] (f16) | qh[8]: each row's 32 high bits reordered so that
//       for k-group j (0..3) bit 8k + j is element 4j + k's and bit 8k + 4 + j element
//       16 + 4j + k's (one shift and mask put them at bit 4 of the byte of their level) |
//       qs as Q4_0x8
//   Q4_1x8 (160 B = 8 x 20):  d[8], m[8] (f16) | qs as Q4_0x8
//   Q5_1x8 (192 B = 8 x 24):  d[8], m[8] (f16) | qh[8] as Q5_0x8 | qs as Q4_0x8
//   IQ4_NLx8 (144 B = 8 x 18):  as Q4_0x8 (the nibbles index kIq4nlValues)
//   IQ4_XSx8 (1104 B = 8 x 136 + 16):  d[8] (f16) | scales[8 sub][8 rows] (ls - 32 as signed
//       bytes) | qs[8][4][8][4]: sub-block s (32 elements), k-group j (0..3), row r, the row's
//       qs bytes 16s + 4j..+3 (low nibbles: elements 32s + 4j.., high: 32s + 16 + 4j..)
//   Q8_0x8 (272 B = 8 x 34):  d[8] (f16) | qs[8][8][4]: k-group j (0..7), row r, elements
//       4j..4j+3
//   Q2_Kx8 (672 B = 8 x 84):  d[8], dmin[8] (f16) | scales[16 sub][8 rows] (each row's byte
//       unchanged: scale in the low nibble, min in the high) | q[8][2][8][4]: k-group j (0..7),
//       half h (128 elements), row r, the row's qs bytes 32h + 4j..+3 (bits 2s..2s + 1: element
//       128h + 32s + 4j + i)
//   Q3_Kx8 (912 B = 8 x 110 + 32):  d[8] (f16) | scales[16 sub][8 rows] (the signed 6-bit
//       scales unpacked to bytes) | q[8][3][8][4]: k-group j (0..7), part (0: qs bytes 4j..,
//       1: qs bytes 32 + 4j.., 2: hmask bytes 4j.., whose bit 4h + s is the third bit of the
//       level in bits 2s of part h), row r
//   Q4_Kx8 (1184 B = 8 x 144 + 32):  d[8], dmin[8] (f16) | scales[8 sub][8 rows] |
//       mins[8 sub][8 rows] (the 6-bit fields unpacked to bytes) | qs[4][8][8][4]: chunk c
//       (64 elements), k-group j (0..7), row r, the row's qs bytes 32c+4j..+3 (low nibbles:
//       sub-block 2c, high: 2c+1)
//   Q5_Kx8 (1440 B = 8 x 176 + 32):  as Q4_Kx8, with qh[8][8][4] before qs: k-group j (0..7),
//       row r, the row's qh bytes 4j..4j+3 unchanged (bit 2c: the fifth bit of the low nibble
//       of qs byte 32c + 4j + i, bit 2c + 1: of its high nibble), read once per chunk c
//   Q6_Kx8 (1680 B = 8 x 210):  d[8] (f16) | scales[16 sub][8 rows] | q[2][8][3][8][4]: half
//       h (128 elements), k-group j (0..7), part (0: ql bytes 64h + 4j.., 1: ql bytes
//       64h + 32 + 4j.., 2: qh bytes 32h + 4j..), row r. Only bytes move: one qh byte holds
//       the fifth and sixth bits of the low and high nibbles of the same ql byte of both ql
//       parts, as in ggml's row. The three parts of a k-group are adjacent so that the tile
//       reads each block front to back (with them in three separate arrays the matvec ran at
//       a third of the memory bandwidth).
//
// Memory: Q4_0x8, Q4_1x8, Q5_0x8, Q5_1x8, IQ4_NLx8, Q8_0x8, Q2_Kx8 and Q6_Kx8 are the same
// size as the rows they replace; Q3_Kx8, Q4_Kx8 and Q5_Kx8 add 32 bytes per 8 super-blocks
// (+3.6 %, +2.8 %, +2.3 %) and IQ4_XSx8 16 (+1.5 %) for the unpacked scales. Rows past the last
// full group stay in ggml's layout (PackedMatrix keeps them as a tail).
//
// Pure byte transforms: no SIMD here, the bodies that read these layouts are in x86/.
#ifndef DSINFER_KERNELS_PACKED_LAYOUT_H_
#define DSINFER_KERNELS_PACKED_LAYOUT_H_

#include <cstddef>
#include <cstdint>

#include "quant/blocks.h"
#include "tensor/dtype.h"

namespace dsinfer::kernels {

inline constexpr int kPackRows = 8;

struct BlockQ4_0x8 {
  uint16_t d[kPackRows];
  uint8_t qs[4][kPackRows][4];
};
struct BlockQ5_0x8 {
  uint16_t d[kPackRows];
  uint32_t qh[kPackRows];  // Q5HighBitsForX8 of each row's qh
  uint8_t qs[4][kPackRows][4];
};
struct BlockQ4_1x8 {
  uint16_t d[kPackRows];
  uint16_t m[kPackRows];
  uint8_t qs[4][kPackRows][4];
};
struct BlockQ5_1x8 {
  uint16_t d[kPackRows];
  uint16_t m[kPackRows];
  uint32_t qh[kPackRows];  // as BlockQ5_0x8::qh
  uint8_t qs[4][kPackRows][4];
};
struct BlockIQ4_NLx8 {
  uint16_t d[kPackRows];
  uint8_t qs[4][kPackRows][4];
};
struct BlockIQ4_XSx8 {
  uint16_t d[kPackRows];
  int8_t scales[8][kPackRows];
  uint8_t qs[8][4][kPackRows][4];
};
struct BlockQ8_0x8 {
  uint16_t d[kPackRows];
  int8_t qs[8][kPackRows][4];
};
struct BlockQ2_Kx8 {
  uint16_t d[kPackRows];
  uint16_t dmin[kPackRows];
  uint8_t scales[16][kPackRows];
  uint8_t q[8][2][kPackRows][4];
};
struct BlockQ3_Kx8 {
  uint16_t d[kPackRows];
  int8_t scales[16][kPackRows];
  uint8_t q[8][3][kPackRows][4];
};
struct BlockQ4_Kx8 {
  uint16_t d[kPackRows];
  uint16_t dmin[kPackRows];
  uint8_t scales[8][kPackRows];
  uint8_t mins[8][kPackRows];
  uint8_t qs[4][8][kPackRows][4];
};
struct BlockQ5_Kx8 {
  uint16_t d[kPackRows];
  uint16_t dmin[kPackRows];
  uint8_t scales[8][kPackRows];
  uint8_t mins[8][kPackRows];
  uint8_t qh[8][kPackRows][4];
  uint8_t qs[4][8][kPackRows][4];
};
struct BlockQ6_Kx8 {
  uint16_t d[kPackRows];
  int8_t scales[16][kPackRows];
  uint8_t q[2][8][3][kPackRows][4];
};
static_assert(sizeof(BlockQ4_0x8) == 8 * sizeof(BlockQ4_0));
static_assert(sizeof(BlockQ5_0x8) == 8 * sizeof(BlockQ5_0));
static_assert(sizeof(BlockQ4_1x8) == 8 * sizeof(BlockQ4_1));
static_assert(sizeof(BlockQ5_1x8) == 8 * sizeof(BlockQ5_1));
static_assert(sizeof(BlockIQ4_NLx8) == 8 * sizeof(BlockIQ4_NL));
static_assert(sizeof(BlockIQ4_XSx8) == 8 * sizeof(BlockIQ4_XS) + 16);
static_assert(sizeof(BlockQ8_0x8) == 8 * sizeof(BlockQ8_0));
static_assert(sizeof(BlockQ2_Kx8) == 8 * sizeof(BlockQ2_K));
static_assert(sizeof(BlockQ3_Kx8) == 8 * sizeof(BlockQ3_K) + 32);
static_assert(sizeof(BlockQ4_Kx8) == 8 * sizeof(BlockQ4_K) + 32);
static_assert(sizeof(BlockQ5_Kx8) == 8 * sizeof(BlockQ5_K) + 32);
static_assert(sizeof(BlockQ6_Kx8) == 8 * sizeof(BlockQ6_K));

// A Q5_0 or Q5_1 block's qh (bit i: element i's high bit) in the order of BlockQ5_0x8::qh and
// BlockQ5_1x8::qh, and back.
uint32_t Q5HighBitsForX8(uint32_t qh);
uint32_t Q5HighBitsFromX8(uint32_t x8);

// Whether `dtype` has an x8 layout.
bool HasPackedLayout(DType dtype);

// Bytes of one packed group of 8 rows of n_in elements (n_in a multiple of the block size).
int64_t PackedGroupBytes(DType dtype, int64_t n_in);

// Interleaves 8 rows (each `row_bytes` apart, starting at `rows`) into one group at `group`
// (PackedGroupBytes bytes). `dtype` must have a packed layout.
void PackGroup(DType dtype, int64_t n_in, const std::byte* rows, int64_t row_bytes,
               std::byte* group);

// The inverse: row r (0..7) of a group in ggml's layout, for tests.
void UnpackGroupRow(DType dtype, int64_t n_in, const std::byte* group, int r, std::byte* row);

}  // namespace dsinfer::kernels

#endif  // DSINFER_KERNELS_PACKED_LAYOUT_H_
