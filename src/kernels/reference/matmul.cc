#include "kernels/reference/matmul.h"

#include <cstddef>
#include <vector>

#include <fmt/format.h>

#include "quant/quant_ops.h"

namespace dsinfer {
namespace {

// Checks that `view` is a dense tensor of a dtype FindQuantOps knows, with at least
// `min_rank` dimensions, and returns its ops.
StatusOr<const QuantOps*> CheckedView(const TensorView& view, int min_rank, const char* what) {
  const QuantOps* ops = FindQuantOps(view.dtype);
  if (ops == nullptr) {
    return UnimplementedError(
        fmt::format("{}: no kernel for dtype {}", what, DTypeName(view.dtype)));
  }
  if (view.shape.rank() < min_rank) {
    return InvalidArgumentError(fmt::format("{}: shape {} needs at least {} dimensions", what,
                                            view.shape.ToString(), min_rank));
  }
  DSI_ASSIGN_OR_RETURN(const int64_t bytes, view.shape.NumBytes(view.dtype));
  if (bytes != static_cast<int64_t>(view.bytes.size())) {
    return InvalidArgumentError(fmt::format("{}: {} {} needs {} bytes, the view has {}", what,
                                            DTypeName(view.dtype), view.shape.ToString(), bytes,
                                            view.bytes.size()));
  }
  if (view.shape.inner() <= 0) {
    return InvalidArgumentError(fmt::format("{}: empty rows in {}", what, view.shape.ToString()));
  }
  return ops;
}

// Runs fn(begin, end) over [0, n), split over `pool` when there is one.
template <typename Fn>
void ForRange(ThreadPool* pool, int64_t n, Fn&& fn) {
  if (pool == nullptr || pool->num_threads() <= 1) {
    fn(int64_t{0}, n);
    return;
  }
  pool->ParallelFor(n, [&fn](int64_t begin, int64_t end, int /*thread*/) { fn(begin, end); });
}

}  // namespace

Status MatMulRows(const TensorView& weight, int64_t row_begin, int64_t row_count,
                  std::span<const float> x, int64_t n_tokens, std::span<float> y,
                  ThreadPool* pool) {
  DSI_ASSIGN_OR_RETURN(const QuantOps* ops, CheckedView(weight, 2, "matmul weight"));
  if (ops->vec_dot == nullptr) {
    return UnimplementedError(
        fmt::format("matmul: {} is an activation type, not a weight type", DTypeName(ops->dtype)));
  }
  const int64_t n_in = weight.shape.inner();
  const int64_t n_rows = weight.num_rows();
  if (row_begin < 0 || row_count < 0 || row_begin > n_rows || row_count > n_rows - row_begin) {
    return InvalidArgumentError(fmt::format("matmul: rows [{}, {}+{}) outside the weight's {} rows",
                                            row_begin, row_begin, row_count, n_rows));
  }
  // Compare by division first so that outside sizes cannot overflow the products.
  const auto x_size = static_cast<int64_t>(x.size());
  const auto y_size = static_cast<int64_t>(y.size());
  if (n_tokens < 0 || x_size % n_in != 0 || x_size / n_in != n_tokens) {
    return InvalidArgumentError(
        fmt::format("matmul: x has {} floats, want {} tokens x {}", x_size, n_tokens, n_in));
  }
  if ((row_count == 0 && y_size != 0) ||
      (row_count > 0 && (y_size % row_count != 0 || y_size / row_count != n_tokens))) {
    return InvalidArgumentError(
        fmt::format("matmul: y has {} floats, want {} tokens x {}", y_size, n_tokens, row_count));
  }
  if (n_tokens == 0 || row_count == 0) return Status::Ok();

  // Activations in the weight's vec_dot_type, one row per token.
  const QuantOps* act_ops = FindQuantOps(ops->vec_dot_type);
  DSI_CHECK(act_ops != nullptr);
  DSI_ASSIGN_OR_RETURN(const int64_t act_row_bytes, RowBytes(ops->vec_dot_type, n_in));
  std::vector<std::byte> act(static_cast<size_t>(n_tokens * act_row_bytes));
  ForRange(pool, n_tokens, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      act_ops->quantize(x.data() + t * n_in, act.data() + t * act_row_bytes, n_in);
    }
  });

  const int64_t w_row_bytes = weight.row_bytes();
  const std::byte* w = weight.bytes.data() + row_begin * w_row_bytes;
  const VecDotFn vec_dot = ops->vec_dot;
  ForRange(pool, row_count, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      DSI_DCHECK(r >= 0 && r < row_count);
      const std::byte* w_row = w + r * w_row_bytes;
      for (int64_t t = 0; t < n_tokens; ++t) {
        y[static_cast<size_t>(t * row_count + r)] =
            vec_dot(n_in, w_row, act.data() + t * act_row_bytes);
      }
    }
  });
  return Status::Ok();
}

Status MatMul(const TensorView& weight, std::span<const float> x, int64_t n_tokens,
              std::span<float> y, ThreadPool* pool) {
  if (weight.shape.rank() != 2) {
    return InvalidArgumentError(
        fmt::format("matmul: weight shape {} is not [n_out, n_in]", weight.shape.ToString()));
  }
  return MatMulRows(weight, 0, weight.shape.dim(0), x, n_tokens, y, pool);
}

Status EmbeddingLookup(const TensorView& table, std::span<const int32_t> ids,
                       std::span<float> out) {
  DSI_ASSIGN_OR_RETURN(const QuantOps* ops, CheckedView(table, 2, "embedding table"));
  if (table.shape.rank() != 2) {
    return InvalidArgumentError(
        fmt::format("embedding table: shape {} is not [vocab, dim]", table.shape.ToString()));
  }
  const int64_t vocab = table.shape.dim(0);
  const int64_t dim = table.shape.dim(1);
  const auto n_ids = static_cast<int64_t>(ids.size());
  if (static_cast<int64_t>(out.size()) % dim != 0 ||
      static_cast<int64_t>(out.size()) / dim != n_ids) {
    return InvalidArgumentError(
        fmt::format("embedding: out has {} floats, want {} ids x {}", out.size(), n_ids, dim));
  }
  for (int64_t i = 0; i < n_ids; ++i) {
    const int32_t id = ids[static_cast<size_t>(i)];
    if (id < 0 || id >= vocab) {
      return InvalidArgumentError(fmt::format(
          "embedding: token id {} at position {} is outside the vocabulary [0, {})", id, i, vocab));
    }
  }
  const int64_t row_bytes = table.row_bytes();
  for (int64_t i = 0; i < n_ids; ++i) {
    const int64_t id = ids[static_cast<size_t>(i)];
    ops->dequantize(table.bytes.data() + id * row_bytes, out.data() + i * dim, dim);
  }
  return Status::Ok();
}

}  // namespace dsinfer
