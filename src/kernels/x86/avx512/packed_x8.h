// The matvec and gemm bodies over the x8 row-interleaved layouts (kernels/packed_layout.h) at
// the avx512 level (AVX512-VNNI on 256-bit vectors), for kernel_table.cc (PackedMatvecFn,
// PackedGemmFn); call through a table of this level or higher.
#ifndef DSINFER_KERNELS_X86_AVX512_PACKED_X8_H_
#define DSINFER_KERNELS_X86_AVX512_PACKED_X8_H_

#include "kernels/kernel_table.h"
#include "platform/cpu_features.h"
#include "tensor/dtype.h"

namespace dsinfer::kernels::avx512 {

// What the Q4_0, Q5_0 and Q8_0 matvecs run on rows shorter than kWideMatvecMinRow: the 256-bit
// group tiles, or 512-bit dots over activations spread once per call (packed_x8_short_rows.inc).
// Their results are bit-identical; which reads memory faster depends on the core.
enum class ShortRowMatvecs { kGroupTiles, kSpreadPairs512 };

// The short-row matvecs that read more on `cpu`: kSpreadPairs512 on Intel, kGroupTiles elsewhere.
// Alternating the two from memory, two threads: on the Intel host with AMX the spread pairs read
// 4-13 % more (Q4_0); on AMD Zen 5 12-20 % less (Q4_0, Q5_0, Q8_0), although from L2 they ran
// 1.4x faster there too (bench/README.md).
ShortRowMatvecs ShortRowMatvecsFor(const CpuFeatures& cpu);

// The packed matvec and gemm of this level for `dtype`; null where it has none.
PackedBodies PackedBodiesFor(DType dtype, ShortRowMatvecs short_rows);

// KernelTable::q8_0_block_terms at this level.
void Q8_0BlockTermsOf(const std::byte* q8_0, int64_t n_blocks, Q8_0BlockTerms* out);

}  // namespace dsinfer::kernels::avx512

#endif  // DSINFER_KERNELS_X86_AVX512_PACKED_X8_H_
