#include "model/hf_tensor_map.h"

#include <string_view>

namespace dsinfer {

int64_t QkPermutationHeads(const TensorSpec& spec, const ModelConfig& config) {
  // LlamaModel.modify_tensors and DeepseekModel.modify_tensors; Qwen2Model and
  // DeepseekV2Model do not permute.
  if (config.arch != ModelArch::kLlama && config.arch != ModelArch::kDeepseek) return 0;
  const std::string_view name = spec.hf_name;
  if (name.ends_with("self_attn.q_proj.weight") || name.ends_with("self_attn.q_proj.bias")) {
    return config.num_attention_heads;
  }
  if (name.ends_with("self_attn.k_proj.weight") || name.ends_with("self_attn.k_proj.bias")) {
    return config.num_key_value_heads;
  }
  return 0;
}

}  // namespace dsinfer
