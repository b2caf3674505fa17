// The matvec and gemm bodies over the x8 row-interleaved layouts (kernels/packed_layout.h) at
// the avx2 level (vpmaddubsw + vpmaddwd), for kernel_table.cc (PackedMatvecFn, PackedGemmFn); call
// through a table of this level or higher.
#ifndef DSINFER_KERNELS_X86_AVX2_PACKED_X8_H_
#define DSINFER_KERNELS_X86_AVX2_PACKED_X8_H_

#include "kernels/kernel_table.h"
#include "tensor/dtype.h"

namespace dsinfer::kernels::avx2 {

// The packed matvec and gemm of this level for `dtype`; null where it has none.
PackedBodies PackedBodiesFor(DType dtype);

// KernelTable::q8_0_block_terms at this level.
void Q8_0BlockTermsOf(const std::byte* q8_0, int64_t n_blocks, Q8_0BlockTerms* out);

}  // namespace dsinfer::kernels::avx2

#endif  // DSINFER_KERNELS_X86_AVX2_PACKED_X8_H_
