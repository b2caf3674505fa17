// Reference (scalar) matrix multiplication of a stored weight with F32 activations, and
// embedding row lookup from a stored table: the oracle every ISA body of these ops is tested
// against.
//
// MatMul follows ggml's mul_mat: each activation row is first converted to the weight type's
// `vec_dot_type` (Q8_0 for Q4_0/Q5_0/Q8_0/IQ4_NL, Q8_1 for Q4_1/Q5_1, Q8_K for the K-quants,
// the weight's own type for F32/F16/BF16), then every output is the type's reference vec_dot
// of one weight row with one converted activation row. The results are therefore exactly
// what ggml's generic CPU code computes, activation quantisation error included.
//
//   weight  [n_out, n_in]   any dtype FindQuantOps knows and that has a vec_dot
//   x       [n_tokens, n_in] row-major F32
//   y       [n_tokens, n_out] row-major F32: y[t, o] = vec_dot(weight[o, :], q(x[t, :]))
//
// Threading: output rows are split into one static chunk per pool thread (each thread reads
// the same weight rows every call); the activation rows are converted in parallel first. The
// result does not depend on the pool or its size: every output is one vec_dot call.
// Cost: one allocation per call for the converted activations (n_tokens rows of
// RowBytes(vec_dot_type, n_in) bytes). The loop itself is kernels::MatMul's run with the
// scalar table (KernelsFor(Isa::kScalar)), whose entries are exactly the reference formats.
//
// Thread safety: pure functions over caller-owned memory; `pool` must not be in use by
// another ParallelFor (ThreadPool's own contract).
#ifndef DSINFER_KERNELS_REFERENCE_MATMUL_H_
#define DSINFER_KERNELS_REFERENCE_MATMUL_H_

#include <cstdint>
#include <span>

#include "base/status.h"
#include "platform/thread_pool.h"
#include "tensor/tensor_view.h"

namespace dsinfer {

// y = x * weight^T for a rank-2 weight [n_out, n_in]. `pool` may be null (runs inline).
// InvalidArgument if the sizes disagree, Unimplemented for a dtype without a vec_dot.
Status MatMul(const TensorView& weight, std::span<const float> x, int64_t n_tokens,
              std::span<float> y, ThreadPool* pool);

// The rows [row_begin, row_begin + row_count) of `weight` (rank >= 2, all outer dimensions
// flattened into rows of weight.shape.inner() elements) times x: y is [n_tokens, row_count].
// For MoE this multiplies by one expert of a stacked [n_expert, n_out, n_in] tensor
// (row_begin = expert * n_out, row_count = n_out) without building a view of it.
Status MatMulRows(const TensorView& weight, int64_t row_begin, int64_t row_count,
                  std::span<const float> x, int64_t n_tokens, std::span<float> y, ThreadPool* pool);

// out[i, :] = dequantise(table[ids[i], :]) for a rank-2 table [vocab, dim] of any dtype
// FindQuantOps knows; out is [ids.size(), dim]. An id outside [0, vocab) is InvalidArgument
// naming the id and its position.
Status EmbeddingLookup(const TensorView& table, std::span<const int32_t> ids, std::span<float> out);

}  // namespace dsinfer

#endif  // DSINFER_KERNELS_REFERENCE_MATMUL_H_
