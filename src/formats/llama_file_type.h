// general.file_type: llama.cpp's llama_ftype number for a file written "in" one type
// (shared/reference/deepseek-models.md §6.1). It is informational (readers look at each
// tensor's type), but llama.cpp and tools print it, so writers set it as llama.cpp would.
#ifndef DSINFER_FORMATS_LLAMA_FILE_TYPE_H_
#define DSINFER_FORMATS_LLAMA_FILE_TYPE_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "tensor/dtype.h"

namespace dsinfer {

// The llama_ftype of a file whose matrices are `dtype` (K-quants: the "_S" variant, the one
// without llama.cpp's per-tensor mixture); 1024 ("guessed") for types llama.cpp has no
// ftype for.
uint32_t LlamaFileType(DType dtype);

// The name llama-quantize takes for a llama_ftype ("Q4_K_M", "BF16", "IQ2_XXS"), for reports;
// nullopt for a number llama.cpp does not define (1024, "guessed", included). constexpr, so
// that the mixtures' table (model/quant_mixture.cc) takes its names from here.
constexpr std::optional<std::string_view> LlamaFileTypeName(uint64_t file_type) {
  switch (file_type) {
    case 0: return "F32";
    case 1: return "F16";
    case 2: return "Q4_0";
    case 3: return "Q4_1";
    case 7: return "Q8_0";
    case 8: return "Q5_0";
    case 9: return "Q5_1";
    case 10: return "Q2_K";
    case 11: return "Q3_K_S";
    case 12: return "Q3_K_M";
    case 13: return "Q3_K_L";
    case 14: return "Q4_K_S";
    case 15: return "Q4_K_M";
    case 16: return "Q5_K_S";
    case 17: return "Q5_K_M";
    case 18: return "Q6_K";
    case 19: return "IQ2_XXS";
    case 20: return "IQ2_XS";
    case 21: return "Q2_K_S";
    case 22: return "IQ3_XS";
    case 23: return "IQ3_XXS";
    case 24: return "IQ1_S";
    case 25: return "IQ4_NL";
    case 26: return "IQ3_S";
    case 27: return "IQ3_M";
    case 28: return "IQ2_S";
    case 29: return "IQ2_M";
    case 30: return "IQ4_XS";
    case 31: return "IQ1_M";
    case 32: return "BF16";
    case 36: return "TQ1_0";
    case 37: return "TQ2_0";
    case 38: return "MXFP4_MOE";
    default: return std::nullopt;
  }
}

}  // namespace dsinfer

#endif  // DSINFER_FORMATS_LLAMA_FILE_TYPE_H_
