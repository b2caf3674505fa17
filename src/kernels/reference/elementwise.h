// Reference (scalar) row-wise and element-wise ops on F32 activations: RMSNorm, softmax,
// the SwiGLU gate, residual add and scaling. These are the oracle for the ISA bodies.
//
// Shapes are row-major; every op checks that its spans agree and returns InvalidArgument
// naming the sizes otherwise. `out` may be the input span itself (the same data and size:
// in-place), but must not partially overlap an input.
//
// Precision: values and the per-element math are float, as HF computes these ops in fp32;
// row sums (RMSNorm's sum of squares, softmax's denominator) are accumulated in double, as
// ggml's reference does, so the oracle itself adds no summation error.
//
// Thread safety: pure functions over caller-owned memory.
#ifndef DSINFER_KERNELS_REFERENCE_ELEMENTWISE_H_
#define DSINFER_KERNELS_REFERENCE_ELEMENTWISE_H_

#include <cstdint>
#include <span>

#include "base/status.h"

namespace dsinfer {

// RMSNorm (deepseek-models.md §3.1), per row of dim = weight.size():
//   out[r, j] = weight[j] * (x[r, j] * (1 / sqrt(mean_j(x[r, j]^2) + eps)))
// x and out are [rows, dim]; eps > 0 (`rms_norm_eps`).
Status RmsNorm(std::span<const float> x, std::span<const float> weight, float eps,
               std::span<float> out);

// Softmax over each row of n_cols: out[r, j] = exp(x[r, j] - max_r) / sum_k exp(x[r, k] - max_r).
// Subtracting the row max keeps large logits finite. x and out are [rows, n_cols].
// A row whose maximum is not finite (all -inf: fully masked; or +inf) is InvalidArgument
// rather than NaN.
Status Softmax(std::span<const float> x, int64_t n_cols, std::span<float> out);

// The SwiGLU gate (§3.2): out[i] = silu(gate[i]) * up[i], silu(z) = z / (1 + e^-z).
Status SiluMul(std::span<const float> gate, std::span<const float> up, std::span<float> out);

// out[i] = a[i] + b[i] (the residual connection; out may be a or b).
Status Add(std::span<const float> a, std::span<const float> b, std::span<float> out);

// out[i] = x[i] * scale.
Status Scale(std::span<const float> x, float scale, std::span<float> out);

}  // namespace dsinfer

#endif  // DSINFER_KERNELS_REFERENCE_ELEMENTWISE_H_
