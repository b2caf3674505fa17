// The AVX-512 (VNNI) gemm bodies: weight rows x many activation rows, for prefill and MoE
// expert batches (KernelTable::gemm). Declarations only, so that kernel_table.cc, built
// without the ISA flags, can put them in the avx512 table; call them only through
// KernelsFor(Isa::kAvx512) or higher. Like the rest of this folder they use no AVX512-BF16
// instruction (the level does not require it).
// Contract: RowsDotFn's (kernel_table.h): y[t * ldy + r] = dot(weight row r, activation row t),
// activations already in the weight's vec_dot_type. Each output obeys the numerics of the
// level's vec_dot (exact block integer sums, float accumulation order differs).
// Thread safety: pure over caller-owned memory.
#ifndef DSINFER_KERNELS_X86_AVX512_GEMM_H_
#define DSINFER_KERNELS_X86_AVX512_GEMM_H_

#include <cstddef>
#include <cstdint>

namespace dsinfer::kernels::avx512 {

// gemm_legacy_quants.cc: Q8_0 / Q4_0 weights x Q8_0 activations, 4 rows x 4 tokens per tile.
void GemmQ8_0(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
              const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy);
void GemmQ4_0(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
              const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy);

// gemm_16bit_floats.cc: BF16 weights x BF16 activations and F16 x F16 (any n_in), 4 rows x 4 tokens
// per tile.
void GemmBF16(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
              const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy);
void GemmF16(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
             const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy);

// gemm_k_quants.cc: Q4_K / Q6_K weights x Q8_K activations, 2 rows x 8 tokens per tile.
void GemmQ4_K(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
              const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy);
void GemmQ6_K(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
              const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy);

// iq_grid_gemm.cc: the lattice types' weights x Q8_K activations, on 16-row panels from 8
// tokens on (each weight block decoded once per 512 tokens), 2 rows at a time below (once for
// all of them); bit-identical per output to the level's vec_dot.
#include "kernels/x86/iq_grid_gemm_decls.inc"

}  // namespace dsinfer::kernels::avx512

#endif  // DSINFER_KERNELS_X86_AVX512_GEMM_H_
