// Fast matrix multiplication of a stored weight with F32 activations: the same contract,
// shapes and threading as the reference in reference/matmul.h (y[t, o] = vec_dot(weight[o, :],
// q(x[t, :])), activations first quantised to the weight type's vec_dot_type), but the
// activation quantiser and the vec_dot come from a KernelTable (Kernels() by default).
//
//   weight  [n_out, n_in]    any dtype with a vec_dot
//   x       [n_tokens, n_in] row-major F32
//   y       [n_tokens, n_out] row-major F32
//
// Numerics: the quantised activations are byte-identical to the reference's; each output
// differs from the reference MatMul only by the float summation order inside the SIMD vec_dot
// (tests bound it relative to the sum of |products|).
// Cost: the converted activations live in a per-thread buffer that grows to the largest call
// (n_tokens x the activation row bytes) and is kept for the thread's life.
// Thread safety: pure over caller-owned memory; `pool` must not be in use by another ParallelFor.
#ifndef DSINFER_KERNELS_MATMUL_H_
#define DSINFER_KERNELS_MATMUL_H_

#include <cstdint>
#include <span>

#include "base/status.h"
#include "kernels/kernel_table.h"
#include "platform/thread_pool.h"
#include "tensor/tensor_view.h"

namespace dsinfer::kernels {

// OK if `weight` is a view MatMul can read: rank >= 2, non-empty rows, exactly the bytes its
// dtype and shape need; InvalidArgument naming the mismatch otherwise.
Status CheckMatMulWeight(const TensorView& weight);

// y = x * weight^T for a rank-2 weight [n_out, n_in]. `pool` may be null (runs inline).
// InvalidArgument if the sizes disagree, Unimplemented for a dtype without a vec_dot.
Status MatMul(const TensorView& weight, std::span<const float> x, int64_t n_tokens,
              std::span<float> y, ThreadPool* pool, const KernelTable& table = Kernels());

// Rows [row_begin, row_begin + row_count) of `weight` (outer dimensions flattened) times x:
// y is [n_tokens, row_count]. See the reference MatMulRows (one MoE expert of a stacked
// tensor).
Status MatMulRows(const TensorView& weight, int64_t row_begin, int64_t row_count,
                  std::span<const float> x, int64_t n_tokens, std::span<float> y, ThreadPool* pool,
                  const KernelTable& table = Kernels());

}  // namespace dsinfer::kernels

#endif  // DSINFER_KERNELS_MATMUL_H_
