#include "kernels/reference/op_checks.h"

#include <fmt/format.h>

#include "base/check.h"

namespace dsinfer {

Status CheckSameSizes(const char* op, size_t a, size_t b, size_t out) {
  if (a == b && b == out) return Status::Ok();
  return InvalidArgumentError(
      fmt::format("{}: inputs of {} and {} floats with an output of {}", op, a, b, out));
}

Status CheckRmsNormArgs(size_t x_size, size_t dim, float eps, size_t out_size) {
  if (dim == 0 || x_size % dim != 0 || out_size != x_size) {
    return InvalidArgumentError(fmt::format(
        "rms_norm: x of {} floats, weight of {}, out of {}: want x = out = rows x weight", x_size,
        dim, out_size));
  }
  if (!(eps > 0.0f)) return InvalidArgumentError(fmt::format("rms_norm: eps {} <= 0", eps));
  return Status::Ok();
}

Status CheckSoftmaxArgs(size_t x_size, int64_t n_cols, size_t out_size) {
  if (n_cols <= 0 || x_size % static_cast<size_t>(n_cols) != 0 || out_size != x_size) {
    return InvalidArgumentError(
        fmt::format("softmax: x of {} floats, out of {}, rows of {}", x_size, out_size, n_cols));
  }
  return Status::Ok();
}

Status SoftmaxRowMaxError(size_t row, float max) {
  return InvalidArgumentError(fmt::format("softmax: row {} has maximum {}", row, max));
}

void CheckRopeArgs(size_t n_freq, int dims) {
  DSI_CHECK_MSG(static_cast<size_t>(dims) == 2 * n_freq,
                "ApplyRope: dims %d != 2 * %zu frequencies", dims, n_freq);
}

void CheckRopeBatchArgs(size_t n_freq, size_t n_tokens, const RopeBatchLayout& layout,
                        size_t x_size) {
  const int64_t rope_dims = 2 * static_cast<int64_t>(n_freq);
  DSI_CHECK_MSG(layout.n_heads >= 0 && layout.rope_offset >= 0 &&
                    layout.rope_offset + rope_dims <= layout.head_dim,
                "ApplyRopeBatch: rope range [%lld, +%lld) outside head_dim %lld",
                static_cast<long long>(layout.rope_offset), static_cast<long long>(rope_dims),
                static_cast<long long>(layout.head_dim));
  const int64_t token_stride = layout.n_heads * layout.head_dim;
  DSI_CHECK_MSG(static_cast<int64_t>(x_size) == static_cast<int64_t>(n_tokens) * token_stride,
                "ApplyRopeBatch: x has %zu values, expected %zu tokens x %lld", x_size, n_tokens,
                static_cast<long long>(token_stride));
}

}  // namespace dsinfer
