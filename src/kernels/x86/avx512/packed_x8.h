// The matvec and gemm bodies over the x8 row-interleaved layouts (kernels/packed_layout.h) at
// the avx512 level (AVX512-VNNI on 256-bit vectors), for kernel_table.cc (PackedMatvecFn,
// PackedGemmFn); call through a table of this level or higher.
#ifndef DSINFER_KERNELS_X86_AVX512_PACKED_X8_H_
#define DSINFER_KERNELS_X86_AVX512_PACKED_X8_H_

#include "kernels/kernel_table.h"
#include "platform/cpu_features.h"
#include "tensor/dtype.h"

namespace dsinfer::kernels::avx512 {

// The tiles of memory-bound products: every matvec and gemms of a few tokens. k512Bit: Q4_0,
// Q5_0 and Q8_0 on rows shorter than kWideMatvecMinRow take 512-bit dots over activations spread
// once per call (packed_x8_short_rows.inc), the other 32-element types' short rows the 256-bit
// group tile; longer rows, and gemms of any number of tokens, the 512-bit wide tiles of four
// groups. k256Bit: the group tiles (one group of 8 rows, one stream of weights a thread) on
// every row length and in gemms of fewer than 8 tokens (the K-quants' gemms take the 512-bit pair
// tiles of packed_x8_k_quant_pairs.inc, one group too). kWideOnLongRows: the group tiles on rows
// shorter than kWideMatvecMinRow, in matvecs and in gemms of fewer than 8 tokens; the wide tiles
// on longer rows (the 32-element types' matvecs, and every type's gemms). Q4_K's, Q5_K's and Q6_K's
// matvecs take the 512-bit pair tiles under k512Bit and the group tiles under the others. Their
// results are bit-identical; which reads memory faster depends on the core.
enum class MatvecTiles { k256Bit, k512Bit, kWideOnLongRows };

// The tiles that read more on `cpu`: k512Bit on Intel, kWideOnLongRows on AMD Zen 4 (family
// 0x19), k256Bit elsewhere. Alternating them from memory, two threads (bench/README.md):
// - on the Intel host with AMX the spread pairs read 4-13 % more than the group tiles (Q4_0),
//   and the wide tiles as much as the spread pairs on long rows;
// - on AMD Zen 5 the spread pairs read 12-20 % less (Q4_0, Q5_0, Q8_0), although from L2 they
//   ran 1.4x as fast there too, and the wide tiles 6-25 % less than the group tiles on long rows
//   and 20-60 % less in gemms of 2 to 6 tokens;
// - on AMD Zen 4 the wide tiles read 4-11 % more than the group tiles on rows of 8960 (Q4_0,
//   Q5_0, Q4_1, IQ4_NL, Q8_0; and Q4_K in gemms of 2 tokens), but 3-35 % less on rows of 1536,
//   where the spread pairs also read 2-3 % less than the group tiles.
MatvecTiles MatvecTilesFor(const CpuFeatures& cpu);

// The packed matvec and gemm of this level for `dtype`; null where it has none.
PackedBodies PackedBodiesFor(DType dtype, MatvecTiles tiles);

// KernelTable::q8_0_block_terms at this level.
void Q8_0BlockTermsOf(const std::byte* q8_0, int64_t n_blocks, Q8_0BlockTerms* out);

}  // namespace dsinfer::kernels::avx512

#endif  // DSINFER_KERNELS_X86_AVX512_PACKED_X8_H_
