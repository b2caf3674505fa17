#include "kernels/matmul.h"

#include <cstddef>

#include <fmt/format.h>

#include "kernels/activations.h"
#include "kernels/for_range.h"
#include "quant/quant_ops.h"

namespace dsinfer::kernels {
namespace {

// Weight rows are split over threads in multiples of this, so that blocked matvec/gemm bodies
// get whole row groups (they handle a ragged tail themselves).
constexpr int64_t kRowGrain = 16;

// The checks of the reference MatMulRows, same messages.
Status CheckArgs(const TensorView& weight, int64_t row_begin, int64_t row_count, int64_t x_size,
                 int64_t n_tokens, int64_t y_size) {
  DSI_RETURN_IF_ERROR(CheckMatMulWeight(weight));
  const int64_t n_in = weight.shape.inner();
  const int64_t n_rows = weight.num_rows();
  if (row_begin < 0 || row_count < 0 || row_begin > n_rows || row_count > n_rows - row_begin) {
    return InvalidArgumentError(fmt::format("matmul: rows [{}, {}+{}) outside the weight's {} rows",
                                            row_begin, row_begin, row_count, n_rows));
  }
  // Compare by division first so that outside sizes cannot overflow the products.
  if (n_tokens < 0 || x_size % n_in != 0 || x_size / n_in != n_tokens) {
    return InvalidArgumentError(
        fmt::format("matmul: x has {} floats, want {} tokens x {}", x_size, n_tokens, n_in));
  }
  if ((row_count == 0 && y_size != 0) ||
      (row_count > 0 && (y_size % row_count != 0 || y_size / row_count != n_tokens))) {
    return InvalidArgumentError(
        fmt::format("matmul: y has {} floats, want {} tokens x {}", y_size, n_tokens, row_count));
  }
  return Status::Ok();
}

}  // namespace

Status CheckMatMulWeight(const TensorView& weight) {
  if (weight.shape.rank() < 2) {
    return InvalidArgumentError(fmt::format("matmul weight: shape {} needs at least 2 dimensions",
                                            weight.shape.ToString()));
  }
  DSI_ASSIGN_OR_RETURN(const int64_t bytes, weight.shape.NumBytes(weight.dtype));
  if (bytes != static_cast<int64_t>(weight.bytes.size())) {
    return InvalidArgumentError(fmt::format("matmul weight: {} {} needs {} bytes, the view has {}",
                                            DTypeName(weight.dtype), weight.shape.ToString(), bytes,
                                            weight.bytes.size()));
  }
  if (weight.shape.inner() <= 0) {
    return InvalidArgumentError(
        fmt::format("matmul weight: empty rows in {}", weight.shape.ToString()));
  }
  return Status::Ok();
}

Status MatMulRows(const TensorView& weight, int64_t row_begin, int64_t row_count,
                  std::span<const float> x, int64_t n_tokens, std::span<float> y, ThreadPool* pool,
                  const KernelTable& table) {
  const QuantOps* ops = FindQuantOps(weight.dtype);
  if (ops == nullptr) {
    return UnimplementedError(
        fmt::format("matmul weight: no kernel for dtype {}", DTypeName(weight.dtype)));
  }
  const VecDotFn vec_dot = table.VecDot(weight.dtype);
  if (vec_dot == nullptr) {
    return UnimplementedError(
        fmt::format("matmul: {} is an activation type, not a weight type", DTypeName(ops->dtype)));
  }
  DSI_RETURN_IF_ERROR(CheckArgs(weight, row_begin, row_count, static_cast<int64_t>(x.size()),
                                n_tokens, static_cast<int64_t>(y.size())));
  if (n_tokens == 0 || row_count == 0) return Status::Ok();
  const int64_t n_in = weight.shape.inner();

  DSI_ASSIGN_OR_RETURN(
      const QuantizedActivations activations,
      QuantizeActivations(table, ops->vec_dot_type, x.data(), n_tokens, n_in, pool));
  const std::byte* act = activations.data;
  const int64_t act_row_bytes = activations.row_bytes;

  const int64_t w_row_bytes = weight.row_bytes();
  const std::byte* w = weight.bytes.data() + row_begin * w_row_bytes;
  const RowsDotFn rows_dot = n_tokens == 1 ? table.Matvec(weight.dtype) : table.Gemm(weight.dtype);
  // Balanced: two cores streaming equal halves of a weight do not get equal bandwidth
  // (platform/thread_pool.h); each row's result is the same whichever thread computes it.
  ForRangeBalanced(
      pool, row_count,
      [&](int64_t begin, int64_t end) {
        if (rows_dot != nullptr) {
          rows_dot(n_in, w + begin * w_row_bytes, w_row_bytes, end - begin, act, act_row_bytes,
                   n_tokens, y.data() + begin, row_count);
          return;
        }
        for (int64_t r = begin; r < end; ++r) {
          const std::byte* w_row = w + r * w_row_bytes;
          for (int64_t t = 0; t < n_tokens; ++t) {
            y[static_cast<size_t>(t * row_count + r)] =
                vec_dot(n_in, w_row, act + t * act_row_bytes);
          }
        }
      },
      kRowGrain);
  return Status::Ok();
}

Status MatMul(const TensorView& weight, std::span<const float> x, int64_t n_tokens,
              std::span<float> y, ThreadPool* pool, const KernelTable& table) {
  if (weight.shape.rank() != 2) {
    return InvalidArgumentError(
        fmt::format("matmul: weight shape {} is not [n_out, n_in]", weight.shape.ToString()));
  }
  return MatMulRows(weight, 0, weight.shape.dim(0), x, n_tokens, y, pool, table);
}

}  // namespace dsinfer::kernels
