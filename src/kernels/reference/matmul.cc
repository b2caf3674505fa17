#include "kernels/reference/matmul.h"

#include <cstddef>

#include <fmt/format.h>

#include "kernels/kernel_table.h"
#include "kernels/matmul.h"
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

}  // namespace

// The loop (activation conversion, one vec_dot per output, threading) is the fast front's
// with the scalar table, whose entries are exactly FindQuantOps'; the reference value of this
// op lies in those per-format functions, so the loop is not written twice.
Status MatMulRows(const TensorView& weight, int64_t row_begin, int64_t row_count,
                  std::span<const float> x, int64_t n_tokens, std::span<float> y,
                  ThreadPool* pool) {
  return kernels::MatMulRows(weight, row_begin, row_count, x, n_tokens, y, pool,
                             kernels::KernelsFor(Isa::kScalar));
}

Status MatMul(const TensorView& weight, std::span<const float> x, int64_t n_tokens,
              std::span<float> y, ThreadPool* pool) {
  return kernels::MatMul(weight, x, n_tokens, y, pool, kernels::KernelsFor(Isa::kScalar));
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
