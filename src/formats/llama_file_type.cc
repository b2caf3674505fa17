#include "formats/llama_file_type.h"

namespace dsinfer {

uint32_t LlamaFileType(DType dtype) {
  switch (dtype) {
    case DType::kF32: return 0;
    case DType::kF16: return 1;
    case DType::kQ4_0: return 2;
    case DType::kQ4_1: return 3;
    case DType::kQ8_0: return 7;
    case DType::kQ5_0: return 8;
    case DType::kQ5_1: return 9;
    case DType::kQ2_K: return 10;
    case DType::kQ3_K: return 11;  // Q3_K_S
    case DType::kQ4_K: return 14;  // Q4_K_S: the pure type
    case DType::kQ5_K: return 16;  // Q5_K_S
    case DType::kQ6_K: return 18;
    case DType::kIQ2_XXS: return 19;
    case DType::kIQ2_XS: return 20;
    case DType::kIQ3_XXS: return 23;
    case DType::kIQ1_S: return 24;
    case DType::kIQ4_NL: return 25;
    case DType::kIQ3_S: return 26;
    case DType::kIQ2_S: return 28;
    case DType::kIQ4_XS: return 30;
    case DType::kIQ1_M: return 31;
    case DType::kBF16: return 32;
    default: return 1024;  // "guessed"
  }
}

}  // namespace dsinfer
