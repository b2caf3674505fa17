#include "quant/quant_ops.h"

#include <array>

#include <fmt/format.h>

#include "quant/reference.h"

namespace dsinfer {
namespace {

using namespace quant_ref;  // NOLINT(google-build-using-namespace): the table names them all

constexpr std::array kOps = {
    QuantOps{DType::kF32, QuantizeF32, DequantizeF32, DotF32, DType::kF32},
    QuantOps{DType::kF16, QuantizeF16, DequantizeF16, DotF16, DType::kF16},
    QuantOps{DType::kBF16, QuantizeBF16, DequantizeBF16, DotBF16, DType::kBF16},
    QuantOps{DType::kQ4_0, QuantizeQ4_0, DequantizeQ4_0, DotQ4_0, DType::kQ8_0},
    QuantOps{DType::kQ4_1, QuantizeQ4_1, DequantizeQ4_1, DotQ4_1, DType::kQ8_1},
    QuantOps{DType::kQ5_0, QuantizeQ5_0, DequantizeQ5_0, DotQ5_0, DType::kQ8_0},
    QuantOps{DType::kQ5_1, QuantizeQ5_1, DequantizeQ5_1, DotQ5_1, DType::kQ8_1},
    QuantOps{DType::kQ8_0, QuantizeQ8_0, DequantizeQ8_0, DotQ8_0, DType::kQ8_0},
    QuantOps{DType::kQ8_1, QuantizeQ8_1, DequantizeQ8_1, nullptr, DType::kQ8_1},
    QuantOps{DType::kIQ4_NL, QuantizeIQ4_NL, DequantizeIQ4_NL, DotIQ4_NL, DType::kQ8_0},
    QuantOps{DType::kIQ4_XS, QuantizeIQ4_XS, DequantizeIQ4_XS, DotIQ4_XS, DType::kQ8_K},
    QuantOps{DType::kIQ2_XXS, nullptr, DequantizeIQ2_XXS, DotIQ2_XXS, DType::kQ8_K},
    QuantOps{DType::kIQ1_S, nullptr, DequantizeIQ1_S, DotIQ1_S, DType::kQ8_K},
    QuantOps{DType::kIQ1_M, nullptr, DequantizeIQ1_M, DotIQ1_M, DType::kQ8_K},
    QuantOps{DType::kIQ2_XS, nullptr, DequantizeIQ2_XS, DotIQ2_XS, DType::kQ8_K},
    QuantOps{DType::kIQ2_S, nullptr, DequantizeIQ2_S, DotIQ2_S, DType::kQ8_K},
    QuantOps{DType::kIQ3_XXS, nullptr, DequantizeIQ3_XXS, DotIQ3_XXS, DType::kQ8_K},
    QuantOps{DType::kIQ3_S, nullptr, DequantizeIQ3_S, DotIQ3_S, DType::kQ8_K},
    QuantOps{DType::kQ2_K, QuantizeQ2_K, DequantizeQ2_K, DotQ2_K, DType::kQ8_K},
    QuantOps{DType::kQ3_K, QuantizeQ3_K, DequantizeQ3_K, DotQ3_K, DType::kQ8_K},
    QuantOps{DType::kQ4_K, QuantizeQ4_K, DequantizeQ4_K, DotQ4_K, DType::kQ8_K},
    QuantOps{DType::kQ5_K, QuantizeQ5_K, DequantizeQ5_K, DotQ5_K, DType::kQ8_K},
    QuantOps{DType::kQ6_K, QuantizeQ6_K, DequantizeQ6_K, DotQ6_K, DType::kQ8_K},
    QuantOps{DType::kQ8_K, QuantizeQ8_K, DequantizeQ8_K, nullptr, DType::kQ8_K},
};

StatusOr<const QuantOps*> CheckedOps(DType dtype, int64_t n_per_row) {
  const QuantOps* ops = FindQuantOps(dtype);
  if (ops == nullptr) {
    return UnimplementedError(fmt::format("no quantiser for dtype {}", DTypeName(dtype)));
  }
  if (n_per_row <= 0) return InvalidArgumentError(fmt::format("row length {}", n_per_row));
  DSI_RETURN_IF_ERROR(RowBytes(dtype, n_per_row).status());
  return ops;
}

}  // namespace

const QuantOps* FindQuantOps(DType dtype) {
  for (const QuantOps& ops : kOps) {
    if (ops.dtype == dtype) return &ops;
  }
  return nullptr;
}

Status ReadOnlyTypeError(DType dtype) {
  // llama-quantize refuses every read-only type but IQ3_S without an importance matrix
  // (llama-quant.cpp, tensor_requires_imatrix).
  const bool needs_imatrix = dtype != DType::kIQ3_S;
  return UnimplementedError(fmt::format(
      "dsinfer reads {} weights but cannot write them ({}: use llama-quantize{})", DTypeName(dtype),
      needs_imatrix ? "ggml's quantiser for this type needs an importance matrix"
                    : "dsinfer has no quantiser for this type",
      needs_imatrix ? " --imatrix" : ""));
}

Status QuantizeRows(DType dtype, std::span<const float> src, int64_t n_per_row,
                    std::span<std::byte> dst) {
  DSI_ASSIGN_OR_RETURN(const QuantOps* ops, CheckedOps(dtype, n_per_row));
  if (ops->quantize == nullptr) return ReadOnlyTypeError(dtype);
  const int64_t row_bytes = *RowBytes(dtype, n_per_row);
  const auto n = static_cast<int64_t>(src.size());
  if (n % n_per_row != 0 || static_cast<int64_t>(dst.size()) != n / n_per_row * row_bytes) {
    return InvalidArgumentError(
        fmt::format("quantise to {}: {} floats in rows of {} need {} output bytes, got {}",
                    DTypeName(dtype), n, n_per_row, n / n_per_row * row_bytes, dst.size()));
  }
  for (int64_t r = 0; r < n / n_per_row; ++r) {
    ops->quantize(src.data() + r * n_per_row, dst.data() + r * row_bytes, n_per_row);
  }
  return Status::Ok();
}

Status DequantizeRows(DType dtype, std::span<const std::byte> src, int64_t n_per_row,
                      std::span<float> dst) {
  DSI_ASSIGN_OR_RETURN(const QuantOps* ops, CheckedOps(dtype, n_per_row));
  const int64_t row_bytes = *RowBytes(dtype, n_per_row);
  const auto bytes = static_cast<int64_t>(src.size());
  if (bytes % row_bytes != 0 || static_cast<int64_t>(dst.size()) != bytes / row_bytes * n_per_row) {
    return InvalidArgumentError(
        fmt::format("dequantise {}: {} bytes in rows of {} elements need {} output floats, got {}",
                    DTypeName(dtype), bytes, n_per_row, bytes / row_bytes * n_per_row, dst.size()));
  }
  for (int64_t r = 0; r < bytes / row_bytes; ++r) {
    ops->dequantize(src.data() + r * row_bytes, dst.data() + r * n_per_row, n_per_row);
  }
  return Status::Ok();
}

}  // namespace dsinfer
