#include "kernels/packed_matrix.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "kernels/activations.h"
#include "kernels/matmul.h"
#include "kernels/packed_layout.h"
#include "quant/quant_ops.h"

namespace dsinfer::kernels {

bool CanPack(DType dtype, const KernelTable& table) {
  return HasPackedLayout(dtype) && table.PackedMatvec(dtype) != nullptr;
}

StatusOr<int64_t> PackedMatrixBytes(DType dtype, int64_t n_out, int64_t n_in) {
  DSI_ASSIGN_OR_RETURN(const int64_t row_bytes, RowBytes(dtype, n_in));
  if (!HasPackedLayout(dtype)) return row_bytes * n_out;
  const int64_t groups = n_out / kPackRows;
  return groups * PackedGroupBytes(dtype, n_in) + (n_out - groups * kPackRows) * row_bytes;
}

Status PackInto(const TensorView& weight, std::span<std::byte> out, ThreadPool* pool) {
  DSI_RETURN_IF_ERROR(CheckMatMulWeight(weight));
  if (weight.shape.rank() != 2 || !HasPackedLayout(weight.dtype)) {
    return InvalidArgumentError(fmt::format("pack: no packed layout for a {} {}",
                                            DTypeName(weight.dtype), weight.shape.ToString()));
  }
  const int64_t n_out = weight.shape.dim(0);
  const int64_t n_in = weight.shape.dim(1);
  DSI_ASSIGN_OR_RETURN(const int64_t bytes, PackedMatrixBytes(weight.dtype, n_out, n_in));
  if (static_cast<int64_t>(out.size()) != bytes) {
    return InvalidArgumentError(
        fmt::format("pack: output has {} bytes, the packed weight needs {}", out.size(), bytes));
  }
  const int64_t row_bytes = weight.row_bytes();
  const int64_t group_bytes = PackedGroupBytes(weight.dtype, n_in);
  const int64_t groups = n_out / kPackRows;
  ForRange(pool, groups, [&](int64_t begin, int64_t end) {
    for (int64_t g = begin; g < end; ++g) {
      PackGroup(weight.dtype, n_in, weight.bytes.data() + g * kPackRows * row_bytes, row_bytes,
                out.data() + g * group_bytes);
    }
  });
  const int64_t tail_rows = n_out - groups * kPackRows;
  std::memcpy(out.data() + groups * group_bytes,
              weight.bytes.data() + groups * kPackRows * row_bytes,
              static_cast<size_t>(tail_rows * row_bytes));
  return Status::Ok();
}

StatusOr<PackedMatrix> PackedMatrix::Pack(const TensorView& weight, const KernelTable& table) {
  DSI_RETURN_IF_ERROR(CheckMatMulWeight(weight));
  if (weight.shape.rank() != 2) {
    return InvalidArgumentError(
        fmt::format("pack: weight shape {} is not [n_out, n_in]", weight.shape.ToString()));
  }
  PackedMatrix m;
  m.view_ = PackedMatrixView{.dtype = weight.dtype,
                             .packed = false,
                             .n_out = weight.shape.dim(0),
                             .n_in = weight.shape.dim(1),
                             .bytes = weight.bytes};
  if (!CanPack(weight.dtype, table)) return m;
  DSI_ASSIGN_OR_RETURN(const int64_t bytes,
                       PackedMatrixBytes(weight.dtype, m.view_.n_out, m.view_.n_in));
  m.storage_ = AlignedBuffer(static_cast<size_t>(bytes));
  DSI_RETURN_IF_ERROR(PackInto(weight, m.storage_.bytes()));
  m.view_.packed = true;
  m.view_.bytes = m.storage_.bytes();
  return m;
}

namespace {

// The checks of MatMulPacked on a packed weight.
Status CheckPacked(const PackedMatrixView& weight, std::span<const float> x, int64_t n_tokens,
                   std::span<float> y, const KernelTable& table) {
  if (table.PackedMatvec(weight.dtype) == nullptr) {
    return InvalidArgumentError(fmt::format("matmul: the {} kernels have no packed {} body",
                                            IsaName(table.isa), DTypeName(weight.dtype)));
  }
  DSI_ASSIGN_OR_RETURN(const int64_t bytes,
                       PackedMatrixBytes(weight.dtype, weight.n_out, weight.n_in));
  if (static_cast<int64_t>(weight.bytes.size()) != bytes) {
    return InvalidArgumentError(fmt::format("matmul: packed {} [{}, {}] needs {} bytes, has {}",
                                            DTypeName(weight.dtype), weight.n_out, weight.n_in,
                                            bytes, weight.bytes.size()));
  }
  if (n_tokens < 0 || static_cast<int64_t>(x.size()) != n_tokens * weight.n_in ||
      static_cast<int64_t>(y.size()) != n_tokens * weight.n_out) {
    return InvalidArgumentError(
        fmt::format("matmul: x has {} floats and y {}, want {} tokens x {} in and x {} out",
                    x.size(), y.size(), n_tokens, weight.n_in, weight.n_out));
  }
  return Status::Ok();
}

// Row groups [begin, end) of a packed weight against every token of `act`.
void RunGroups(const PackedMatrixView& weight, PackedMatvecFn matvec, PackedGemmFn gemm,
               const QuantizedActivations& act, int64_t n_tokens, std::span<float> y, int64_t begin,
               int64_t end) {
  const int64_t group_bytes = PackedGroupBytes(weight.dtype, weight.n_in);
  const std::byte* packed = weight.bytes.data();
  if (n_tokens == 1 || gemm == nullptr) {
    for (int64_t t = 0; t < n_tokens; ++t) {
      matvec(weight.n_in, packed + begin * group_bytes, end - begin, act.data + t * act.row_bytes,
             y.data() + t * weight.n_out + kPackRows * begin);
    }
    return;
  }
  gemm(weight.n_in, packed + begin * group_bytes, end - begin, act.data, act.row_bytes, n_tokens,
       y.data() + kPackRows * begin, weight.n_out);
}

// The n_out % 8 tail rows, in ggml's layout after the groups.
void RunTailRows(const PackedMatrixView& weight, const QuantizedActivations& act, int64_t n_tokens,
                 std::span<float> y, const KernelTable& table) {
  const VecDotFn vec_dot = table.VecDot(weight.dtype);
  const int64_t groups = weight.n_out / kPackRows;
  const std::byte* tail =
      weight.bytes.data() + groups * PackedGroupBytes(weight.dtype, weight.n_in);
  const int64_t row_bytes = *RowBytes(weight.dtype, weight.n_in);
  for (int64_t r = groups * kPackRows; r < weight.n_out; ++r) {
    const std::byte* row = tail + (r - groups * kPackRows) * row_bytes;
    for (int64_t t = 0; t < n_tokens; ++t) {
      y[static_cast<size_t>(t * weight.n_out + r)] =
          vec_dot(weight.n_in, row, act.data + t * act.row_bytes);
    }
  }
}

}  // namespace

Status MatMulPacked(const PackedMatrixView& weight, std::span<const float> x, int64_t n_tokens,
                    std::span<float> y, ThreadPool* pool, const KernelTable& table) {
  const std::span<float> ys[] = {y};
  return MatMulPackedSharedInput(std::span(&weight, 1), x, n_tokens, ys, pool, table);
}

Status MatMulPackedSharedInput(std::span<const PackedMatrixView> weights, std::span<const float> x,
                               int64_t n_tokens, std::span<const std::span<float>> ys,
                               ThreadPool* pool, const KernelTable& table) {
  const size_t n = weights.size();
  if (n == 0 || n > kMaxSharedInputWeights || ys.size() != n) {
    return InvalidArgumentError(
        fmt::format("matmul: {} weights and {} outputs, want 1 to {} of each", n, ys.size(),
                    kMaxSharedInputWeights));
  }
  const QuantOps* first_ops = FindQuantOps(weights[0].dtype);
  bool together = first_ops != nullptr;
  for (const PackedMatrixView& w : weights) {
    const QuantOps* ops = FindQuantOps(w.dtype);
    together = together && w.packed && w.n_in == weights[0].n_in && ops != nullptr &&
               ops->vec_dot_type == first_ops->vec_dot_type;
  }
  if (!together) {
    for (size_t i = 0; i < n; ++i) {
      const PackedMatrixView& w = weights[i];
      if (w.packed) {
        // Alone and still not runnable together: a type without kernels.
        if (n == 1) {
          return InvalidArgumentError(
              fmt::format("matmul: {} weights have no kernels", DTypeName(w.dtype)));
        }
        DSI_RETURN_IF_ERROR(MatMulPackedSharedInput(weights.subspan(i, 1), x, n_tokens,
                                                    ys.subspan(i, 1), pool, table));
      } else {
        const TensorView rows{.dtype = w.dtype, .shape = Shape{w.n_out, w.n_in}, .bytes = w.bytes};
        DSI_RETURN_IF_ERROR(MatMul(rows, x, n_tokens, ys[i], pool, table));
      }
    }
    return Status::Ok();
  }

  PackedMatvecFn matvecs[kMaxSharedInputWeights] = {};
  PackedGemmFn gemms[kMaxSharedInputWeights] = {};
  int64_t first_group[kMaxSharedInputWeights + 1] = {};  // of weight i in the joint range
  for (size_t i = 0; i < n; ++i) {
    DSI_RETURN_IF_ERROR(CheckPacked(weights[i], x, n_tokens, ys[i], table));
    matvecs[i] = table.PackedMatvec(weights[i].dtype);
    gemms[i] = table.PackedGemm(weights[i].dtype);
    first_group[i + 1] = first_group[i] + weights[i].n_out / kPackRows;
  }
  if (n_tokens == 0) return Status::Ok();

  DSI_ASSIGN_OR_RETURN(const QuantizedActivations act,
                       QuantizeActivations(table, first_ops->vec_dot_type, x.data(), n_tokens,
                                           weights[0].n_in, pool));
  // Chunks in multiples of 4 groups, so that the gemm's wide tiles cover most of each (a chunk
  // that straddles two weights may start the second off that multiple; results are the same).
  ForRangeBalanced(
      pool, first_group[n],
      [&](int64_t begin, int64_t end) {
        for (size_t i = 0; i < n; ++i) {
          const int64_t lo = std::max(begin, first_group[i]);
          const int64_t hi = std::min(end, first_group[i + 1]);
          if (lo < hi) {
            RunGroups(weights[i], matvecs[i], gemms[i], act, n_tokens, ys[i], lo - first_group[i],
                      hi - first_group[i]);
          }
        }
      },
      /*grain=*/4);
  for (size_t i = 0; i < n; ++i) RunTailRows(weights[i], act, n_tokens, ys[i], table);
  return Status::Ok();
}

}  // namespace dsinfer::kernels
