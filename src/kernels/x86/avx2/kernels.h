// The AVX2 bodies (this folder is compiled with -mavx2 -mfma -mf16c): declarations only, so
// that kernel_table.cc, built without those flags, can put them in the avx2 table. Call them
// only through KernelsFor(Isa::kAvx2) or higher, never directly: nothing here checks the CPU.
// Signatures and contracts are those of quant_ops.h (n a multiple of the block size).
#ifndef DSINFER_KERNELS_X86_AVX2_KERNELS_H_
#define DSINFER_KERNELS_X86_AVX2_KERNELS_H_

#include <cstdint>

namespace dsinfer::kernels::avx2 {

// legacy_quants.cc
// Same bytes as quant_ref::QuantizeQ8_0 (roundf rounding emulated exactly).
void QuantizeQ8_0(const float* x, void* blocks, int64_t n);
// Same bytes as quant_ref::QuantizeQ8_1: Q8_0's block plus s = f16(d * sum of the levels).
void QuantizeQ8_1(const float* x, void* blocks, int64_t n);
float DotQ8_0(int64_t n, const void* w, const void* q8_0);
float DotQ4_0(int64_t n, const void* w, const void* q8_0);

// k_quants.cc
// Same bytes as quant_ref::QuantizeQ8_K (NearestInt's ties-to-even emulated exactly).
void QuantizeQ8_K(const float* x, void* blocks, int64_t n);
float DotQ4_K(int64_t n, const void* w, const void* q8_k);
float DotQ6_K(int64_t n, const void* w, const void* q8_k);

// legacy_quants_more.cc
float DotQ4_1(int64_t n, const void* w, const void* q8_1);
float DotQ5_0(int64_t n, const void* w, const void* q8_0);
float DotQ5_1(int64_t n, const void* w, const void* q8_1);
float DotIQ4_NL(int64_t n, const void* w, const void* q8_0);

// k_quants_more.cc
float DotQ2_K(int64_t n, const void* w, const void* q8_k);
float DotQ3_K(int64_t n, const void* w, const void* q8_k);
float DotQ5_K(int64_t n, const void* w, const void* q8_k);

// iq_grid_dots.cc: the lattice types, bit-identical to quant_ref's dots (the avx512 level
// inherits them)
float DotIQ2_XXS(int64_t n, const void* w, const void* q8_k);
float DotIQ1_S(int64_t n, const void* w, const void* q8_k);
float DotIQ1_M(int64_t n, const void* w, const void* q8_k);
float DotIQ2_XS(int64_t n, const void* w, const void* q8_k);
float DotIQ2_S(int64_t n, const void* w, const void* q8_k);
float DotIQ3_XXS(int64_t n, const void* w, const void* q8_k);
float DotIQ3_S(int64_t n, const void* w, const void* q8_k);

// float_conversions.cc: the F16 and BF16 activation quantisers, same bytes as quant_ref's
void QuantizeF16(const float* x, void* out, int64_t n);
void QuantizeBF16(const float* x, void* out, int64_t n);

// float_dots.cc: F32 / F16 / BF16 weights with activations of the same type, summed in float
float DotF32(int64_t n, const void* w, const void* x);
float DotF16(int64_t n, const void* w, const void* x_f16);
float DotBF16(int64_t n, const void* w, const void* x_bf16);

}  // namespace dsinfer::kernels::avx2

#endif  // DSINFER_KERNELS_X86_AVX2_KERNELS_H_
