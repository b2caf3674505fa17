// The bodies that need AVX-512 VBMI and BITALG on top of the avx512 level (this folder is
// compiled with -mavx512vbmi -mavx512bitalg as well as the avx512 flags): declarations only,
// for kernel_table.cc, which puts them in the avx512 table only where the CPU has both
// (HasAvx512VbmiBodies). Cascade Lake has the avx512 level without them; Ice Lake, Sapphire
// Rapids and AMD Zen 4 / 5 have them.
// Signatures and contracts are those of quant_ops.h (n a multiple of the block size).
#ifndef DSINFER_KERNELS_X86_AVX512_VBMI_KERNELS_H_
#define DSINFER_KERNELS_X86_AVX512_VBMI_KERNELS_H_

#include <cstddef>
#include <cstdint>

namespace dsinfer::kernels::avx512_vbmi {

// iq_grid_dots.cc: the reference's bits (quant_ref's dots), as every level's; the gemms are
// RowsDotFn (kernel_table.h), each output the dot's bits.
float DotIQ2_XXS(int64_t n, const void* w, const void* q8_k);
float DotIQ2_XS(int64_t n, const void* w, const void* q8_k);
float DotIQ3_XXS(int64_t n, const void* w, const void* q8_k);
float DotIQ3_S(int64_t n, const void* w, const void* q8_k);
void GemmIQ2_XXS(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
                 const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y,
                 int64_t ldy);
void GemmIQ2_XS(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
                const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y,
                int64_t ldy);
void GemmIQ3_XXS(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
                 const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y,
                 int64_t ldy);
void GemmIQ3_S(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
               const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y,
               int64_t ldy);

}  // namespace dsinfer::kernels::avx512_vbmi

#endif  // DSINFER_KERNELS_X86_AVX512_VBMI_KERNELS_H_
