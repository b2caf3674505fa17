// Fast element-wise and row-wise ops on F32 activations: RMSNorm, softmax, the SwiGLU gate,
// residual add and scaling, with the contracts, argument checks and error messages of the
// references in reference/elementwise.h (which stay the oracle), running the row bodies of an
// ElementwiseTable: Elementwise() (the level kernel_table.h selects) unless one is passed.
//
// Levels: the scalar table holds plain C++ loops doing the reference's arithmetic (every op then
// matches the reference bit for bit); avx2 and avx512 hold the bodies in
// x86/<isa>/elementwise_simd.cc. amx uses avx512's. Every entry of every table is callable.
//
// Numerics of the SIMD levels, against the reference:
//   RmsNorm  sum of squares accumulated in double as the reference (only the summation order
//            differs), then the same float roundings: equal except when that order flips the
//            rounding of mean(x^2) to float (then within 2 ulp)
//   Softmax  max exact; e^(x - max) from a vectorised exp (below); the denominator summed in
//            double; within a few ulp of the reference
//   SiluMul  z / (1 + e^-z) * up with the vectorised exp and an IEEE division: a few ulp
//   Add, Scale  exact (one IEEE operation per element)
// The vectorised exp: Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, 1 + r + r^2 P(r) with
// Cephes expf's degree-5 P, and 2^n applied exactly (including results that underflow to
// subnormals or overflow to inf). Error <= 1.01 ulp of the exact e^x where that is a normal
// float (relative 1.2e-7), measured on every 37th float of [-87.33, 88.72]; <= 0.73 subnormal
// ulp below. exp(-inf) = 0, exp(inf) = inf, NaN stays NaN. elementwise_simd_test checks it.
//
// Threading: ops given a ThreadPool split their rows (SiluMul: its elements) over it; null runs
// inline. A softmax with a non-finite row maximum returns the error of the first such row; the
// output is then unspecified (rows after it may or may not have been written).
//
// Thread safety: pure functions over caller-owned memory; the tables are immutable after their
// (thread-safe) construction. `pool` must not be in use by another ParallelFor.
#ifndef DSINFER_KERNELS_ELEMENTWISE_H_
#define DSINFER_KERNELS_ELEMENTWISE_H_

#include <cstdint>
#include <span>

#include "base/status.h"
#include "platform/cpu_features.h"
#include "platform/thread_pool.h"

namespace dsinfer::kernels {

// Row bodies over raw pointers; n counts floats and may be 0. `out` may be an input (exactly),
// never a partial overlap.
struct ElementwiseTable {
  Isa isa = Isa::kScalar;
  // out[i] = e^x[i]: softmax's and silu's exp, exposed so tests can bound its error directly.
  void (*exp)(const float* x, float* out, int64_t n) = nullptr;
  // One RMSNorm row of dim values (dim > 0, eps > 0).
  void (*rms_norm_row)(const float* x, const float* weight, float eps, float* out,
                       int64_t dim) = nullptr;
  // max_i x[i], ignoring NaNs as std::fmax does; -inf for an empty or all-NaN row.
  float (*row_max)(const float* x, int64_t n) = nullptr;
  // out[i] = e^(x[i] - max); returns sum_i out[i] accumulated in double.
  double (*exp_sub_sum)(const float* x, float max, float* out, int64_t n) = nullptr;
  void (*silu_mul)(const float* gate, const float* up, float* out, int64_t n) = nullptr;
  void (*add)(const float* a, const float* b, float* out, int64_t n) = nullptr;
  void (*scale)(const float* x, float scale, float* out, int64_t n) = nullptr;
};

// The table of Kernels().isa (DSINFER_ISA applies), chosen on first use.
const ElementwiseTable& Elementwise();

// The table of level `isa`, for tests and benchmarks; `isa` must not exceed
// BestIsa(GetCpuFeatures()) (checked).
const ElementwiseTable& ElementwiseFor(Isa isa);

// The ops: see reference/elementwise.h for each contract and error.
Status RmsNorm(std::span<const float> x, std::span<const float> weight, float eps,
               std::span<float> out, ThreadPool* pool = nullptr,
               const ElementwiseTable& table = Elementwise());
Status Softmax(std::span<const float> x, int64_t n_cols, std::span<float> out,
               ThreadPool* pool = nullptr, const ElementwiseTable& table = Elementwise());
Status SiluMul(std::span<const float> gate, std::span<const float> up, std::span<float> out,
               ThreadPool* pool = nullptr, const ElementwiseTable& table = Elementwise());
Status Add(std::span<const float> a, std::span<const float> b, std::span<float> out,
           const ElementwiseTable& table = Elementwise());
Status Scale(std::span<const float> x, float scale, std::span<float> out,
             const ElementwiseTable& table = Elementwise());

}  // namespace dsinfer::kernels

#endif  // DSINFER_KERNELS_ELEMENTWISE_H_
