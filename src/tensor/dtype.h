// Element types: plain scalars, FP8, and ggml's quantised block types.
//
// A quantised type packs `block_size` consecutive elements of a row into `type_size` bytes;
// plain types have block_size 1. Ids for the ggml types are the numbers GGUF files store
// (ggml.h `enum ggml_type`); safetensors names are those of the safetensors header.
// The block math itself lives in quant/; this file only knows names and sizes.
#ifndef DSINFER_TENSOR_DTYPE_H_
#define DSINFER_TENSOR_DTYPE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "base/status.h"

namespace dsinfer {

enum class DType : uint8_t {
  // plain
  kF32,
  kF16,
  kBF16,
  kF64,
  kI8,
  kI16,
  kI32,
  kI64,
  kU8,
  kBool,
  kF8E4M3,
  kF8E5M2,
  // ggml quantised blocks
  kQ4_0,
  kQ4_1,
  kQ5_0,
  kQ5_1,
  kQ8_0,
  kQ8_1,
  kQ2_K,
  kQ3_K,
  kQ4_K,
  kQ5_K,
  kQ6_K,
  kQ8_K,
  kIQ2_XXS,
  kIQ2_XS,
  kIQ3_XXS,
  kIQ1_S,
  kIQ4_NL,
  kIQ3_S,
  kIQ2_S,
  kIQ4_XS,
  kIQ1_M,
  kTQ1_0,
  kTQ2_0,
  kMXFP4,
};

struct DTypeInfo {
  DType dtype;
  std::string_view name;              // ggml's name where it has one: "f32", "q4_K", "bf16"
  int64_t block_size;                 // elements per block (1 for plain types)
  int64_t type_size;                  // bytes per block
  int ggml_id;                        // GGUF tensor type id, -1 if ggml has none
  std::string_view safetensors_name;  // "F32", "F8_E4M3", empty if safetensors has none
  bool quantized;                     // a block type (scales inside), not a plain element
};

const DTypeInfo& GetDTypeInfo(DType dtype);
std::span<const DTypeInfo> AllDTypes();

inline std::string_view DTypeName(DType dtype) { return GetDTypeInfo(dtype).name; }

std::optional<DType> DTypeFromGgmlId(uint32_t id);
std::optional<DType> DTypeFromSafetensorsName(std::string_view name);
// Case-insensitive ggml name ("Q4_K", "q4_k", "bf16").
std::optional<DType> DTypeFromName(std::string_view name);

// Bytes of one row of `ne0` elements. Fails if ne0 is not a multiple of the block size
// or the byte count would overflow.
StatusOr<int64_t> RowBytes(DType dtype, int64_t ne0);

}  // namespace dsinfer

#endif  // DSINFER_TENSOR_DTYPE_H_
