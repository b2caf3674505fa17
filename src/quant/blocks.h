// ggml's quantised block layouts, byte for byte (shared/reference/deepseek-models.md §7).
//
// Each block packs one run of `kBlock` consecutive elements of a row; fields are little-endian
// and unpadded (the static_asserts pin the sizes that GGUF files rely on). Halves are stored as
// raw uint16_t bits; see half.h for the conversions.
#ifndef DSINFER_QUANT_BLOCKS_H_
#define DSINFER_QUANT_BLOCKS_H_

#include <cstdint>

namespace dsinfer {

inline constexpr int kQK = 32;     // elements per block of the 32-element formats
inline constexpr int kQK_K = 256;  // elements per super-block of the K-quants
inline constexpr int kKScaleSize = 12;

struct BlockQ4_0 {  // y = d * (q - 8)
  uint16_t d;
  uint8_t qs[kQK / 2];  // low nibbles: elements 0..15, high nibbles: 16..31
};
struct BlockQ4_1 {  // y = d * q + m
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQK / 2];
};
struct BlockQ5_0 {  // y = d * (q - 16), bit 4 of q in qh
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
struct BlockQ5_1 {  // y = d * q + m
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
struct BlockQ8_0 {  // y = d * q
  uint16_t d;
  int8_t qs[kQK];
};
struct BlockQ8_1 {  // activations for Q4_1/Q5_1 dots: s = d * sum(qs)
  uint16_t d;
  uint16_t s;
  int8_t qs[kQK];
};
struct BlockIQ4_NL {  // y = d * kIq4nlValues[q]
  uint16_t d;
  uint8_t qs[kQK / 2];
};
// IQ4_XS: 8 sub-blocks of 32, y = d * (ls - 32) * kIq4nlValues[q] with a 6-bit ls per
// sub-block: its low 4 bits in nibble ib % 2 of scales_l[ib / 2], its high 2 in bits 2 ib of
// scales_h. qs as IQ4_NL's per sub-block (16 bytes each).
struct BlockIQ4_XS {
  uint16_t d;
  uint16_t scales_h;
  uint8_t scales_l[kQK_K / 64];
  uint8_t qs[kQK_K / 2];
};
// The lattice types (iq_grids.h): each group of 8 elements is one grid entry times a scale.
// IQ2_XXS: per 32 elements, two u32 of qs: the first holds 4 grid indices (a byte each), the
// second 4 x 7 sign bits and a 4-bit scale ls in bits 28..31; y = d (0.5 + ls) / 4 * g.
struct BlockIQ2_XXS {
  uint16_t d;
  uint16_t qs[kQK_K / 8];
};
// IQ1_S: per 32 elements, 4 index bytes in qs and one qh: 3 more index bits per group
// (bits 3l..3l+2), a 3-bit scale s in bits 12..14 and the delta's sign in bit 15;
// y = d (2 s + 1) (g + delta).
struct BlockIQ1_S {
  uint16_t d;
  uint8_t qs[kQK_K / 8];
  uint16_t qh[kQK_K / 32];
};
// IQ1_M: as IQ1_S without a 16-bit qh per 32: one byte of qh per 16 elements (3 index bits
// and a delta sign per group of 8), a 3-bit scale per 16 elements in `scales`, and the f16 d
// spread over the top nibbles of scales' four u16.
struct BlockIQ1_M {
  uint8_t qs[kQK_K / 8];
  uint8_t qh[kQK_K / 16];
  uint8_t scales[kQK_K / 32];
};

// IQ2_XS: per 32 elements, four u16 of qs, one per group: a 9-bit grid index and 7 sign bits
// on top (Iq2Signs); a 4-bit scale s per 16 elements in scales[ib] (low nibble first);
// y = d (0.5 + s) / 4 g.
struct BlockIQ2_XS {
  uint16_t d;
  uint16_t qs[kQK_K / 8];
  uint8_t scales[kQK_K / 32];
};
// IQ2_S: qs holds 32 index bytes (one per group) and then 32 sign bytes (all 8 bits stored);
// qh[ib] adds 2 index bits per group of sub-block ib (bits 2l, 2l+1: a 10-bit index); scales
// as IQ2_XS.
struct BlockIQ2_S {
  uint16_t d;
  uint8_t qs[kQK_K / 4];
  uint8_t qh[kQK_K / 32];
  uint8_t scales[kQK_K / 32];
};
// IQ3_XXS: qs holds 64 index bytes (one per 4 elements) and then one u32 per 32 elements:
// 4 x 7 sign bits (Iq2Signs) and a 4-bit scale s in bits 28..31; y = d (0.5 + s) / 2 g.
struct BlockIQ3_XXS {
  uint16_t d;
  uint8_t qs[3 * kQK_K / 8];
};
// IQ3_S: 64 index bytes in qs plus a 9th bit per 4 elements in qh (bit k of qh[ib] for index
// byte 8 ib + k), a full sign byte per group of 8, and a 4-bit scale s per 32 elements
// (scales[ib / 2], low nibble for even ib); y = d (2 s + 1) g.
struct BlockIQ3_S {
  uint16_t d;
  uint8_t qs[kQK_K / 4];
  uint8_t qh[kQK_K / 32];
  uint8_t signs[kQK_K / 8];
  uint8_t scales[kQK_K / 64];
};

struct BlockQ2_K {  // 16 sub-blocks of 16: 4-bit scale and 4-bit min each
  uint8_t scales[kQK_K / 16];
  uint8_t qs[kQK_K / 4];
  uint16_t d;
  uint16_t dmin;
};
struct BlockQ3_K {  // 16 sub-blocks of 16 with 6-bit signed scales; high bit of q in hmask
  uint8_t hmask[kQK_K / 8];
  uint8_t qs[kQK_K / 4];
  uint8_t scales[12];
  uint16_t d;
};
struct BlockQ4_K {  // 8 sub-blocks of 32 with 6-bit scale and min packed in `scales`
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qs[kQK_K / 2];
};
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
struct BlockQ6_K {  // 16 sub-blocks of 16 with 8-bit signed scales
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};
struct BlockQ8_K {  // activations for K-quant dots; bsums[g] = sum of qs[16g .. 16g+15]
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockIQ4_NL) == 18);
static_assert(sizeof(BlockIQ4_XS) == 136);
static_assert(sizeof(BlockIQ2_XXS) == 66);
static_assert(sizeof(BlockIQ1_S) == 50);
static_assert(sizeof(BlockIQ1_M) == 56);
static_assert(sizeof(BlockIQ2_XS) == 74);
static_assert(sizeof(BlockIQ2_S) == 82);
static_assert(sizeof(BlockIQ3_XXS) == 98);
static_assert(sizeof(BlockIQ3_S) == 110);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

// IQ4_NL's non-linear 4-bit code book.
inline constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};

}  // namespace dsinfer

#endif  // DSINFER_QUANT_BLOCKS_H_
