// Declarations of the scalar reference bodies, one family per .cc file; quant_ops.cc puts
// them in the table. Signatures follow quant_ops.h: n elements, a multiple of the block size.
// Internal to quant/: everyone else goes through FindQuantOps().
#ifndef DSINFER_QUANT_REFERENCE_H_
#define DSINFER_QUANT_REFERENCE_H_

#include <cstdint>

namespace dsinfer::quant_ref {

// legacy_quants.cc: 32-element blocks
void QuantizeQ4_0(const float* x, void* blocks, int64_t n);
void QuantizeQ4_1(const float* x, void* blocks, int64_t n);
void QuantizeQ5_0(const float* x, void* blocks, int64_t n);
void QuantizeQ5_1(const float* x, void* blocks, int64_t n);
void QuantizeQ8_0(const float* x, void* blocks, int64_t n);
void QuantizeQ8_1(const float* x, void* blocks, int64_t n);
void DequantizeQ4_0(const void* blocks, float* y, int64_t n);
void DequantizeQ4_1(const void* blocks, float* y, int64_t n);
void DequantizeQ5_0(const void* blocks, float* y, int64_t n);
void DequantizeQ5_1(const void* blocks, float* y, int64_t n);
void DequantizeQ8_0(const void* blocks, float* y, int64_t n);
void DequantizeQ8_1(const void* blocks, float* y, int64_t n);
float DotQ4_0(int64_t n, const void* w, const void* q8_0);
float DotQ4_1(int64_t n, const void* w, const void* q8_1);
float DotQ5_0(int64_t n, const void* w, const void* q8_0);
float DotQ5_1(int64_t n, const void* w, const void* q8_1);
float DotQ8_0(int64_t n, const void* w, const void* q8_0);

// float_types.cc
void QuantizeF32(const float* x, void* out, int64_t n);
void QuantizeF16(const float* x, void* out, int64_t n);
void QuantizeBF16(const float* x, void* out, int64_t n);
void DequantizeF32(const void* in, float* y, int64_t n);
void DequantizeF16(const void* in, float* y, int64_t n);
void DequantizeBF16(const void* in, float* y, int64_t n);
float DotF32(int64_t n, const void* w, const void* x);
float DotF16(int64_t n, const void* w, const void* x_f16);
float DotBF16(int64_t n, const void* w, const void* x_bf16);

// k_quants_low.cc (Q2_K, Q3_K, Q6_K) and q8_k.cc: 256-element super-blocks
void QuantizeQ2_K(const float* x, void* blocks, int64_t n);
void QuantizeQ3_K(const float* x, void* blocks, int64_t n);
void QuantizeQ6_K(const float* x, void* blocks, int64_t n);
void QuantizeQ8_K(const float* x, void* blocks, int64_t n);
void DequantizeQ2_K(const void* blocks, float* y, int64_t n);
void DequantizeQ3_K(const void* blocks, float* y, int64_t n);
void DequantizeQ6_K(const void* blocks, float* y, int64_t n);
void DequantizeQ8_K(const void* blocks, float* y, int64_t n);
float DotQ2_K(int64_t n, const void* w, const void* q8_k);
float DotQ3_K(int64_t n, const void* w, const void* q8_k);
float DotQ6_K(int64_t n, const void* w, const void* q8_k);

// k_quants_mid.cc (Q4_K, Q5_K) and iq4_nl.cc (IQ4_NL, IQ4_XS)
void QuantizeQ4_K(const float* x, void* blocks, int64_t n);
void QuantizeQ5_K(const float* x, void* blocks, int64_t n);
void QuantizeIQ4_NL(const float* x, void* blocks, int64_t n);
void QuantizeIQ4_XS(const float* x, void* blocks, int64_t n);
void DequantizeQ4_K(const void* blocks, float* y, int64_t n);
void DequantizeQ5_K(const void* blocks, float* y, int64_t n);
void DequantizeIQ4_NL(const void* blocks, float* y, int64_t n);
void DequantizeIQ4_XS(const void* blocks, float* y, int64_t n);
float DotQ4_K(int64_t n, const void* w, const void* q8_k);
float DotQ5_K(int64_t n, const void* w, const void* q8_k);
float DotIQ4_NL(int64_t n, const void* w, const void* q8_0);
float DotIQ4_XS(int64_t n, const void* w, const void* q8_k);

// iq_grid_quants.cc: the lattice types, read-only (no quantiser)
void DequantizeIQ2_XXS(const void* blocks, float* y, int64_t n);
void DequantizeIQ1_S(const void* blocks, float* y, int64_t n);
void DequantizeIQ1_M(const void* blocks, float* y, int64_t n);
float DotIQ2_XXS(int64_t n, const void* w, const void* q8_k);
float DotIQ1_S(int64_t n, const void* w, const void* q8_k);
float DotIQ1_M(int64_t n, const void* w, const void* q8_k);

// iq_signed_grid_quants.cc: the lattice types with stored signs, read-only (no quantiser)
void DequantizeIQ2_XS(const void* blocks, float* y, int64_t n);
void DequantizeIQ2_S(const void* blocks, float* y, int64_t n);
void DequantizeIQ3_XXS(const void* blocks, float* y, int64_t n);
void DequantizeIQ3_S(const void* blocks, float* y, int64_t n);
float DotIQ2_XS(int64_t n, const void* w, const void* q8_k);
float DotIQ2_S(int64_t n, const void* w, const void* q8_k);
float DotIQ3_XXS(int64_t n, const void* w, const void* q8_k);
float DotIQ3_S(int64_t n, const void* w, const void* q8_k);

}  // namespace dsinfer::quant_ref

#endif  // DSINFER_QUANT_REFERENCE_H_
