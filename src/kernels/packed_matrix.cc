#include "kernels/packed_matrix.h"

#include <cstring>

#include <fmt/format.h>

#include "kernels/activations.h"
#include "kernels/matmul.h"
#include "kernels/packed_layout.h"
#include "quant/quant_ops.h"

namespace dsinfer::kernels {
namespace {

bool CanPack(DType dtype, const KernelTable& table) {
  return HasPackedLayout(dtype) && table.PackedMatvec(dtype) != nullptr;
}

}  // namespace

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
                             .n_out = weight.shape.dim(0),
                             .n_in = weight.shape.dim(1),
                             .packed = false,
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

Status MatMulPacked(const PackedMatrixView& weight, std::span<const float> x, int64_t n_tokens,
                    std::span<float> y, ThreadPool* pool, const KernelTable& table) {
  const TensorView rows{
      .dtype = weight.dtype, .shape = Shape{weight.n_out, weight.n_in}, .bytes = weight.bytes};
  if (!weight.packed) return MatMul(rows, x, n_tokens, y, pool, table);

  const PackedMatvecFn matvec = table.PackedMatvec(weight.dtype);
  if (matvec == nullptr) {
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
  const int64_t n_in = weight.n_in;
  const int64_t n_out = weight.n_out;
  if (n_tokens < 0 || static_cast<int64_t>(x.size()) != n_tokens * n_in ||
      static_cast<int64_t>(y.size()) != n_tokens * n_out) {
    return InvalidArgumentError(
        fmt::format("matmul: x has {} floats and y {}, want {} tokens x {} in and x {} out",
                    x.size(), y.size(), n_tokens, n_in, n_out));
  }
  if (n_tokens == 0) return Status::Ok();

  const QuantOps* ops = FindQuantOps(weight.dtype);
  DSI_ASSIGN_OR_RETURN(
      const QuantizedActivations act,
      QuantizeActivations(table, ops->vec_dot_type, x.data(), n_tokens, n_in, pool));
  const int64_t group_bytes = PackedGroupBytes(weight.dtype, n_in);
  const int64_t groups = n_out / kPackRows;
  const std::byte* packed = weight.bytes.data();
  const PackedGemmFn gemm = table.PackedGemm(weight.dtype);
  ForRange(pool, groups, [&](int64_t begin, int64_t end) {
    if (n_tokens == 1 || gemm == nullptr) {
      for (int64_t t = 0; t < n_tokens; ++t) {
        matvec(n_in, packed + begin * group_bytes, end - begin, act.data + t * act.row_bytes,
               y.data() + t * n_out + kPackRows * begin);
      }
      return;
    }
    gemm(n_in, packed + begin * group_bytes, end - begin, act.data, act.row_bytes, n_tokens,
         y.data() + kPackRows * begin, n_out);
  });
  // The n_out % 8 tail rows, in ggml's layout after the groups.
  const VecDotFn vec_dot = table.VecDot(weight.dtype);
  const std::byte* tail = packed + groups * group_bytes;
  const int64_t row_bytes = *RowBytes(weight.dtype, n_in);
  for (int64_t r = groups * kPackRows; r < n_out; ++r) {
    const std::byte* row = tail + (r - groups * kPackRows) * row_bytes;
    for (int64_t t = 0; t < n_tokens; ++t) {
      y[static_cast<size_t>(t * n_out + r)] = vec_dot(n_in, row, act.data + t * act.row_bytes);
    }
  }
  return Status::Ok();
}

}  // namespace dsinfer::kernels
