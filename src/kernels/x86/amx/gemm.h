// The AMX gemm bodies (this folder is compiled with -mamx-tile -mamx-int8 -mamx-bf16 plus the
// avx512 flags): weight rows x many activation rows on the tile unit, for prefill and MoE
// expert batches (KernelTable::gemm). Declarations only, so that kernel_table.cc, built
// without those flags, can put them in the amx table; call them only through
// KernelsFor(Isa::kAmx), which is handed out only where cpuid, XCR0 and Linux's
// ARCH_REQ_XCOMP_PERM (requested by GetCpuFeatures() before any table exists) allow tiles.
//
// Contract: RowsDotFn's (kernel_table.h): y[t * ldy + r] = dot(weight row r, activation row t),
// activations already in the weight's vec_dot_type.
// Tile state: each call loads its own tile configuration on the calling thread and releases
// the tiles before returning, so calls on different pool threads never share tile state and
// a thread that never runs AMX code keeps no tile state.
// Thread safety: pure over caller-owned memory plus per-thread scratch (thread_local).
#ifndef DSINFER_KERNELS_X86_AMX_GEMM_H_
#define DSINFER_KERNELS_X86_AMX_GEMM_H_

#include <cstddef>
#include <cstdint>

namespace dsinfer::kernels::amx {

// gemm_q8_0.cc: Q8_0 weights x Q8_0 activations with TDPBSSD, one 32-element block per tile
// product (the per-block scales are applied in AVX-512 after each). Exact int32 block sums;
// only the float accumulation order differs from the reference.
void GemmQ8_0(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
              const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy);

// gemm_bf16.cc: BF16 weights x BF16 activations (any n_in) with TDPBF16PS, accumulating in
// the fp32 tiles over the whole row. TDPBF16PS flushes BF16 subnormal inputs and fp32
// subnormal results to zero, which the reference does not: a difference below 2^-126 per
// product, inside the float-order tolerance.
void GemmBF16(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
              const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy);

}  // namespace dsinfer::kernels::amx

#endif  // DSINFER_KERNELS_X86_AMX_GEMM_H_
