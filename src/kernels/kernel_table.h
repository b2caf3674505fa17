// The one dispatch point of the quantised dot-product kernels: a table of function pointers per
// ISA level, chosen once at start-up from the CPU features (and DSINFER_ISA).
//
// Levels and inheritance: the scalar table holds quant/'s reference bodies (FindQuantOps);
// each higher level (avx2 < avx512 < amx) starts as a copy of the level below and overrides
// only the entries it has a SIMD body for, so every entry is always callable. The SIMD bodies
// live in x86/avx2/ and x86/avx512/, the only files compiled with those instruction sets;
// nothing in them runs before a table of their level is handed out, and a table is only
// handed out for a level the CPU supports.
//
//   KernelTable::vec_dot[dtype]       weight dtype x activation row already in its vec_dot_type
//   KernelTable::quantize_row[dtype]  float row -> dtype: the activation quantisers (Q8_0, Q8_K,
//                                     ...) that MatMul uses; reference for types without SIMD
//   KernelTable::matvec[dtype]        several weight rows x one activation row (decode): reads
//                                     each activation block once for a group of rows
//   KernelTable::gemm[dtype]          weight rows x many activation rows (prefill, MoE expert
//                                     batches): register/tile-blocked over rows and tokens
//   KernelTable::packed_matvec[dtype] the matvec over a row-interleaved copy of the weight
//                                     (packed_layout.h, packed_matrix.h)
//   KernelTable::q8_0_block_terms     each Q8_0 activation block's scale and quant sum, which
//                                     the packed bodies of offset levels take
//   matvec, gemm and packed_matvec are optional (null: MatMul loops over vec_dot); each output is
//   still the dot of one weight row with one activation row, so they obey vec_dot's numerics.
//
// Numerics: a SIMD quantiser writes the same bytes as the reference; a SIMD vec_dot differs
// from the reference only in float summation order (the integer block sums are exact).
//
// Thread safety: the tables are immutable after their (thread-safe, function-local static)
// construction; the references returned stay valid for the life of the process.
#ifndef DSINFER_KERNELS_KERNEL_TABLE_H_
#define DSINFER_KERNELS_KERNEL_TABLE_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "platform/cpu_features.h"
#include "quant/quant_ops.h"
#include "tensor/dtype.h"

namespace dsinfer::kernels {

inline constexpr int kNumDTypes = static_cast<int>(DType::kMXFP4) + 1;

// y[t * ldy + r] = dot(weight row r, activation row t) for r < n_rows, t < n_tokens. Weight
// rows are w_row_bytes apart, activation rows (already in the weight's vec_dot_type)
// act_row_bytes apart; n_in is a multiple of the weight's block size. A matvec is called
// with n_tokens == 1.
using RowsDotFn = void (*)(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
                           const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y,
                           int64_t ldy);

// What a block of Q8_0 activations gives a packed dot besides its quants: its scale and the sum
// of its 32 quants, which the bodies over unsigned levels (Q4_0, Q5_0; Q8_0 and IQ4_NL at
// avx512) multiply by their offset and subtract. Made once per activation row when it is
// quantised (QuantizeActivationsInto), not once per chunk of rows in every thread.
struct Q8_0BlockTerms {
  float d;
  int32_t sum;  // |sum| <= 32 * 127
};

// y[8g + r] = dot(row r of packed group g, act) for g < n_groups (packed_layout.h). `terms`:
// act's Q8_0BlockTerms where it is Q8_0, else null.
using PackedMatvecFn = void (*)(int64_t n_in, const std::byte* groups, int64_t n_groups,
                                const std::byte* act, const Q8_0BlockTerms* terms, float* y);
// The same for n_tokens activation rows act_row_bytes apart (their terms n_in / 32 apart), token
// t's outputs at y + t * ldy; bit-identical per token to the PackedMatvecFn of the same level
// (batch invariance).
using PackedGemmFn = void (*)(int64_t n_in, const std::byte* groups, int64_t n_groups,
                              const std::byte* act, int64_t act_row_bytes,
                              const Q8_0BlockTerms* terms, int64_t n_tokens, float* y, int64_t ldy);

// out[b] = the Q8_0BlockTerms of block b of the n_blocks Q8_0 blocks at q8_0.
using Q8_0BlockTermsFn = void (*)(const std::byte* q8_0, int64_t n_blocks, Q8_0BlockTerms* out);

// The two bodies of one packed type at one level.
struct PackedBodies {
  PackedMatvecFn matvec = nullptr;
  PackedGemmFn gemm = nullptr;
};

struct KernelTable {
  Isa isa = Isa::kScalar;
  // Indexed by DType; null where quant/ has no vec_dot for the type.
  std::array<VecDotFn, kNumDTypes> vec_dot{};
  // Indexed by DType; null where quant/ has no quantiser for the type.
  std::array<QuantizeRowFn, kNumDTypes> quantize_row{};

  // Indexed by DType; null where the level has no blocked body for the type.
  std::array<RowsDotFn, kNumDTypes> matvec{};
  std::array<RowsDotFn, kNumDTypes> gemm{};
  std::array<PackedMatvecFn, kNumDTypes> packed_matvec{};
  std::array<PackedGemmFn, kNumDTypes> packed_gemm{};
  // The terms the packed bodies take with Q8_0 activations; never null.
  Q8_0BlockTermsFn q8_0_block_terms = nullptr;

  VecDotFn VecDot(DType dtype) const { return vec_dot[static_cast<int>(dtype)]; }
  QuantizeRowFn QuantizeRow(DType dtype) const { return quantize_row[static_cast<int>(dtype)]; }
  RowsDotFn Matvec(DType dtype) const { return matvec[static_cast<int>(dtype)]; }
  RowsDotFn Gemm(DType dtype) const { return gemm[static_cast<int>(dtype)]; }
  PackedMatvecFn PackedMatvec(DType dtype) const { return packed_matvec[static_cast<int>(dtype)]; }
  PackedGemmFn PackedGemm(DType dtype) const { return packed_gemm[static_cast<int>(dtype)]; }
};

// The table of SelectedIsa(), computed on first use. A DSINFER_ISA that fails to resolve
// (unknown name, or a level above the CPU's) does not abort: it is logged once as an error
// and the best level the CPU supports is used. Callers that want a hard failure (the CLI at
// start-up) check SelectedIsa() themselves before running anything.
const KernelTable& Kernels();

// The table of level `isa`, for tests and benchmarks that run every level the machine has.
// `isa` must not exceed BestIsa(GetCpuFeatures()) (checked: running a body the CPU lacks
// would be SIGILL later, far from the cause).
const KernelTable& KernelsFor(Isa isa);

}  // namespace dsinfer::kernels

#endif  // DSINFER_KERNELS_KERNEL_TABLE_H_
