#include "model/tensor_storage_type.h"

namespace dsinfer {

namespace {

constexpr int64_t kQK_K = 256;

DType FallbackForShortRows(DType type) {
  switch (type) {
    case DType::kQ4_K: return DType::kQ5_0;
    case DType::kQ5_K: return DType::kQ5_1;
    case DType::kQ6_K: return DType::kQ8_0;
    case DType::kIQ2_XXS:
    case DType::kIQ2_XS:
    case DType::kIQ2_S:
    case DType::kIQ3_XXS:
    case DType::kIQ3_S:
    case DType::kIQ1_S:
    case DType::kIQ1_M:
    case DType::kIQ4_XS: return DType::kIQ4_NL;
    // IQ4_NL before mid-2024; llama.cpp now picks Q4_0, which every backend runs.
    case DType::kQ2_K:
    case DType::kQ3_K:
    case DType::kTQ1_0:
    case DType::kTQ2_0: return DType::kQ4_0;
    default: return type;
  }
}

}  // namespace

DType StorageTypeFor(const TensorSpec& spec, DType requested) {
  const bool matrix_role = spec.role == TensorRole::kWeight ||
                           spec.role == TensorRole::kEmbedding || spec.role == TensorRole::kOutput;
  if (spec.ne.size() < 2 || !matrix_role) return DType::kF32;
  const int64_t ne0 = spec.ne[0];
  DType type = requested;
  if (GetDTypeInfo(type).block_size == kQK_K && ne0 % kQK_K != 0) type = FallbackForShortRows(type);
  if (ne0 % GetDTypeInfo(type).block_size != 0) type = DType::kF16;
  return type;
}

}  // namespace dsinfer
