// The HF config.json of a ModelConfig, in the schema of the real checkpoints of its family
// (shared/reference/deepseek-models.md §1, tests/data/hf/*/config.json): model_type and
// architectures, every field ParseHfConfig / ModelConfig::FromHfConfig read, rope_scaling
// dicts (linear, yarn, llama3), and quantization_config for FP8 weights. Reading it back gives
// the same ModelConfig (tested).
//
// model_type: llama, qwen2, deepseek; deepseek2 becomes deepseek_v3 for V3's routing
// (sigmoid scores, noaux_tc) and deepseek_v2 otherwise. Keys are sorted and indented by two
// spaces, as transformers' save_pretrained writes them.
//
// Thread safety: a pure function.
#ifndef DSINFER_MODEL_HF_CONFIG_JSON_H_
#define DSINFER_MODEL_HF_CONFIG_JSON_H_

#include <string>

#include "base/status.h"
#include "model/model_config.h"
#include "tensor/dtype.h"

namespace dsinfer {

// `weights`: the stored type of the weight matrices (torch_dtype; F8E4M3 adds V3's
// quantization_config and says bfloat16). Unimplemented for a config config.json cannot
// express: q/k/v biases outside qwen2 (HF's attention_bias also adds an o_proj bias),
// qwen2 without them, or routing the model_type's gate does not run.
StatusOr<std::string> HfConfigJsonFor(const ModelConfig& config, DType weights);

}  // namespace dsinfer

#endif  // DSINFER_MODEL_HF_CONFIG_JSON_H_
