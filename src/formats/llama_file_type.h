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
// nullopt for a number llama.cpp does not define (1024, "guessed", included).
std::optional<std::string_view> LlamaFileTypeName(uint64_t file_type);

}  // namespace dsinfer

#endif  // DSINFER_FORMATS_LLAMA_FILE_TYPE_H_
