// The argument checks an op's reference and its fast version (kernels/elementwise.h,
// kernels/rope.h) share, so both reject the same inputs with the same message.
//
// The elementwise checks return InvalidArgument (bad sizes reach them from model code that
// sizes buffers from a config); the RoPE checks are CHECKs, as in the reference, because a
// mismatch there is a broken invariant of the caller.
//
// Thread safety: pure functions.
#ifndef DSINFER_KERNELS_REFERENCE_OP_CHECKS_H_
#define DSINFER_KERNELS_REFERENCE_OP_CHECKS_H_

#include <cstddef>
#include <cstdint>

#include "base/status.h"
#include "kernels/reference/rope.h"

namespace dsinfer {

// a, b and out have the same size; `op` names the op in the message ("silu_mul").
Status CheckSameSizes(const char* op, size_t a, size_t b, size_t out);

// RMSNorm: dim > 0, x = out = rows x dim, eps > 0.
Status CheckRmsNormArgs(size_t x_size, size_t dim, float eps, size_t out_size);

// Softmax: n_cols > 0, x = out = rows x n_cols.
Status CheckSoftmaxArgs(size_t x_size, int64_t n_cols, size_t out_size);

// The error for a softmax row whose maximum is not finite (fully masked, or +inf).
Status SoftmaxRowMaxError(size_t row, float max);

// ApplyRope: dims == 2 * n_freq (CHECK).
void CheckRopeArgs(size_t n_freq, int dims);

// ApplyRopeBatch: the rotated range lies inside each head and x holds n_tokens whole tokens
// (CHECK).
void CheckRopeBatchArgs(size_t n_freq, size_t n_tokens, const RopeBatchLayout& layout,
                        size_t x_size);

}  // namespace dsinfer

#endif  // DSINFER_KERNELS_REFERENCE_OP_CHECKS_H_
