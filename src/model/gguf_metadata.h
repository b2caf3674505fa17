// The llama.cpp GGUF metadata of a ModelConfig: the "{arch}.*" hyper-parameter keys the
// converter (convert_hf_to_gguf.py) writes for llama, qwen2, deepseek and deepseek2, plus the
// tokenizer's BOS/EOS ids (shared/reference/deepseek-models.md §6.2). ModelConfig::FromGguf
// (defined in gguf_metadata.cc next to this writer, so the two cannot drift) reads them back.
//
// Integers are written as UINT32, floats as FLOAT32 and flags as BOOL, as the converter does.
// No tokenizer vocabulary is written here (tokenizer/tokenizer_gguf_metadata.h adds one, or
// marks the file as having none, which llama.cpp needs in order to load it at all).
//
// Thread safety: pure functions.
#ifndef DSINFER_MODEL_GGUF_METADATA_H_
#define DSINFER_MODEL_GGUF_METADATA_H_

#include <vector>

#include "base/status.h"
#include "formats/gguf_value.h"
#include "model/model_config.h"
#include "model/tensor_layout.h"

namespace dsinfer {

// Fails (Unimplemented) for a config llama.cpp's keys cannot express: moe_layer_freq != 1, or
// a deepseek (MoE-16B) config with routing other than softmax-greedy-unnormalised.
StatusOr<std::vector<GgufKeyValue>> GgufMetadataFor(const ModelConfig& config,
                                                    const TensorLayoutOptions& options);

}  // namespace dsinfer

#endif  // DSINFER_MODEL_GGUF_METADATA_H_
