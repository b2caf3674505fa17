#include "tensor/dtype.h"

#include <array>
#include <limits>

#include <fmt/format.h>

#include "base/ascii.h"

namespace dsinfer {
namespace {

// Block sizes and byte sizes from ggml-common.h (see shared/reference/deepseek-models.md §7).
constexpr std::array kDTypes = {
    DTypeInfo{DType::kF32, "f32", 1, 4, 0, "F32", false},
    DTypeInfo{DType::kF16, "f16", 1, 2, 1, "F16", false},
    DTypeInfo{DType::kBF16, "bf16", 1, 2, 30, "BF16", false},
    DTypeInfo{DType::kF64, "f64", 1, 8, 28, "F64", false},
    DTypeInfo{DType::kI8, "i8", 1, 1, 24, "I8", false},
    DTypeInfo{DType::kI16, "i16", 1, 2, 25, "I16", false},
    DTypeInfo{DType::kI32, "i32", 1, 4, 26, "I32", false},
    DTypeInfo{DType::kI64, "i64", 1, 8, 27, "I64", false},
    DTypeInfo{DType::kU8, "u8", 1, 1, -1, "U8", false},
    DTypeInfo{DType::kBool, "bool", 1, 1, -1, "BOOL", false},
    DTypeInfo{DType::kF8E4M3, "f8_e4m3", 1, 1, -1, "F8_E4M3", false},
    DTypeInfo{DType::kF8E5M2, "f8_e5m2", 1, 1, -1, "F8_E5M2", false},
    DTypeInfo{DType::kQ4_0, "q4_0", 32, 18, 2, "", true},
    DTypeInfo{DType::kQ4_1, "q4_1", 32, 20, 3, "", true},
    DTypeInfo{DType::kQ5_0, "q5_0", 32, 22, 6, "", true},
    DTypeInfo{DType::kQ5_1, "q5_1", 32, 24, 7, "", true},
    DTypeInfo{DType::kQ8_0, "q8_0", 32, 34, 8, "", true},
    DTypeInfo{DType::kQ8_1, "q8_1", 32, 36, 9, "", true},
    DTypeInfo{DType::kQ2_K, "q2_K", 256, 84, 10, "", true},
    DTypeInfo{DType::kQ3_K, "q3_K", 256, 110, 11, "", true},
    DTypeInfo{DType::kQ4_K, "q4_K", 256, 144, 12, "", true},
    DTypeInfo{DType::kQ5_K, "q5_K", 256, 176, 13, "", true},
    DTypeInfo{DType::kQ6_K, "q6_K", 256, 210, 14, "", true},
    DTypeInfo{DType::kQ8_K, "q8_K", 256, 292, 15, "", true},
    DTypeInfo{DType::kIQ2_XXS, "iq2_xxs", 256, 66, 16, "", true},
    DTypeInfo{DType::kIQ2_XS, "iq2_xs", 256, 74, 17, "", true},
    DTypeInfo{DType::kIQ3_XXS, "iq3_xxs", 256, 98, 18, "", true},
    DTypeInfo{DType::kIQ1_S, "iq1_s", 256, 50, 19, "", true},
    DTypeInfo{DType::kIQ4_NL, "iq4_nl", 32, 18, 20, "", true},
    DTypeInfo{DType::kIQ3_S, "iq3_s", 256, 110, 21, "", true},
    DTypeInfo{DType::kIQ2_S, "iq2_s", 256, 82, 22, "", true},
    DTypeInfo{DType::kIQ4_XS, "iq4_xs", 256, 136, 23, "", true},
    DTypeInfo{DType::kIQ1_M, "iq1_m", 256, 56, 29, "", true},
    DTypeInfo{DType::kTQ1_0, "tq1_0", 256, 54, 34, "", true},
    DTypeInfo{DType::kTQ2_0, "tq2_0", 256, 66, 35, "", true},
    DTypeInfo{DType::kMXFP4, "mxfp4", 32, 17, 39, "", true},
};

}  // namespace

const DTypeInfo& GetDTypeInfo(DType dtype) {
  const auto index = static_cast<size_t>(dtype);
  DSI_CHECK(index < kDTypes.size() && kDTypes[index].dtype == dtype);
  return kDTypes[index];
}

std::span<const DTypeInfo> AllDTypes() { return kDTypes; }

std::optional<DType> DTypeFromGgmlId(uint32_t id) {
  for (const auto& info : kDTypes) {
    if (info.ggml_id >= 0 && static_cast<uint32_t>(info.ggml_id) == id) return info.dtype;
  }
  return std::nullopt;
}

std::optional<DType> DTypeFromSafetensorsName(std::string_view name) {
  for (const auto& info : kDTypes) {
    if (!info.safetensors_name.empty() && info.safetensors_name == name) return info.dtype;
  }
  return std::nullopt;
}

std::optional<DType> DTypeFromName(std::string_view name) {
  for (const auto& info : kDTypes) {
    if (EqualsIgnoreAsciiCase(info.name, name)) return info.dtype;
  }
  return std::nullopt;
}

StatusOr<int64_t> RowBytes(DType dtype, int64_t ne0) {
  const DTypeInfo& info = GetDTypeInfo(dtype);
  if (ne0 < 0) return InvalidArgumentError(fmt::format("negative row length {}", ne0));
  if (ne0 % info.block_size != 0) {
    return InvalidArgumentError(
        fmt::format("row of {} elements is not a multiple of {}'s block of {}", ne0, info.name,
                    info.block_size));
  }
  const int64_t blocks = ne0 / info.block_size;
  if (blocks > std::numeric_limits<int64_t>::max() / info.type_size) {
    return InvalidArgumentError(fmt::format("row of {} {} elements overflows", ne0, info.name));
  }
  return blocks * info.type_size;
}

}  // namespace dsinfer
