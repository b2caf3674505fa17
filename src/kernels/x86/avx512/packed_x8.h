// The matvec and gemm bodies over the x8 row-interleaved layouts (kernels/packed_layout.h) at
// the avx512 level (AVX512-VNNI on 256-bit vectors), for kernel_table.cc (PackedMatvecFn,
// PackedGemmFn); call through a table of this level or higher.
#ifndef DSINFER_KERNELS_X86_AVX512_PACKED_X8_H_
#define DSINFER_KERNELS_X86_AVX512_PACKED_X8_H_

#include "kernels/kernel_table.h"
#include "platform/cpu_features.h"
#include "tensor/dtype.h"

namespace dsinfer::kernels::avx512 {

// The tiles of the 32-element types' matvecs (Q4_0, Q5_0, Q4_1, Q5_1, IQ4_NL, Q8_0). k512Bit:
// Q4_0, Q5_0 and Q8_0 on rows shorter than kWideMatvecMinRow take 512-bit dots over activations
// spread once per call (packed_x8_short_rows.inc), the rest the 256-bit group tile; longer rows
// the 512-bit wide tiles of four groups. k256Bit: short rows the group tiles, longer rows four
// groups in 256-bit vectors sharing each activation broadcast (Q8_0 keeps its wide tile there).
// Their results are bit-identical; which reads memory faster depends on the core.
enum class MatvecTiles { k256Bit, k512Bit };

// The matvec tiles that read more on `cpu`: k512Bit on Intel, k256Bit elsewhere. Alternating
// them from memory, two threads: on the Intel host with AMX the spread pairs read 4-13 % more
// than the group tiles (Q4_0); on AMD Zen 5 12-20 % less (Q4_0, Q5_0, Q8_0), although from L2
// they ran 1.4x as fast there too; on its long rows four 256-bit groups read 3-8 % more than
// the 512-bit wide tile for Q4_0 and Q5_0, and 8 % less for Q8_0 (bench/README.md).
MatvecTiles MatvecTilesFor(const CpuFeatures& cpu);

// The packed matvec and gemm of this level for `dtype`; null where it has none.
PackedBodies PackedBodiesFor(DType dtype, MatvecTiles tiles);

// KernelTable::q8_0_block_terms at this level.
void Q8_0BlockTermsOf(const std::byte* q8_0, int64_t n_blocks, Q8_0BlockTerms* out);

}  // namespace dsinfer::kernels::avx512

#endif  // DSINFER_KERNELS_X86_AVX512_PACKED_X8_H_
