// HfConfig: a typed, validated HF `config.json` for the model types dsinfer runs.
//
// Supported model_type values (shared/reference/deepseek-models.md §1.1):
//   llama        DeepSeek-LLM, DeepSeek-Coder v1, R1-Distill-Llama
//   qwen2        R1-Distill-Qwen
//   deepseek     DeepSeek-MoE-16B (remote code)
//   deepseek_v2  DeepSeek-V2 / V2-Lite (MLA + MoE)
//   deepseek_v3  DeepSeek-V3 / R1 (MLA + MoE, sigmoid routing, MTP layer, FP8 weights)
//
// Field names are config.json's, verbatim. A key absent from the file takes the default of the
// HF config class for that model_type (see HfConfigDefaults in hf_config_defaults.cc for the
// sources), so a config reads here exactly as transformers would read it. Unknown extra keys are
// ignored.
//
// Errors (InvalidArgument; Unimplemented for a value we do not run: a model_type, RoPE type,
// hidden_act other than "silu", mlp_bias true, MoE routing) start with the file name and name
// the field: a wrong JSON type, or a value that makes no sense (a zero size, heads not
// divisible by KV heads, more experts per token than experts, ...). Python's json keeps the
// last of duplicate keys and so does this parser; nesting deeper than 64 levels is refused.
//
// Count fields that HF allows to be null (None) and that have no sensible number are 0 when
// null: n_routed_experts (0 = a dense model), n_shared_experts, num_experts_per_tok, n_group,
// topk_group. q_lora_rank and the token ids are std::optional because 0 is a real value there.
//
// Thread safety: plain values.
#ifndef DSINFER_FORMATS_HF_CONFIG_H_
#define DSINFER_FORMATS_HF_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace dsinfer {

enum class HfModelType { kLlama, kQwen2, kDeepseek, kDeepseekV2, kDeepseekV3 };

// The config.json spelling: "llama", "qwen2", "deepseek", "deepseek_v2", "deepseek_v3".
std::string_view HfModelTypeName(HfModelType type);

// `rope_scaling` (or the newer `rope_parameters`) when it changes anything; "default" is none.
struct RopeScaling {
  std::string type;  // "linear", "dynamic", "yarn" or "llama3" (from "type" or "rope_type")
  double factor = 1.0;
  std::optional<int64_t> original_max_position_embeddings;  // required for llama3
  // yarn. Defaults are those of DeepSeek's remote-code DeepseekV2YarnRotaryEmbedding.
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  double mscale = 1.0;
  double mscale_all_dim = 0.0;
  // llama3 only, where both are required (0 elsewhere).
  double low_freq_factor = 0.0;
  double high_freq_factor = 0.0;
};

// `quantization_config`; V3/R1: {"quant_method": "fp8", "fmt": "e4m3", "activation_scheme":
// "dynamic", "weight_block_size": [128, 128]}; V3.1 adds "scale_fmt": "ue8m0" (reference §4).
struct QuantizationConfig {
  std::string quant_method;
  std::string fmt;                         // empty if absent
  std::string activation_scheme;           // empty if absent
  std::vector<int64_t> weight_block_size;  // [rows, cols]; empty if absent
  std::string scale_fmt;                   // empty if absent
};

struct HfConfig {
  HfModelType model_type = HfModelType::kLlama;
  std::vector<std::string> architectures;  // e.g. {"DeepseekV3ForCausalLM"}
  std::string torch_dtype;                 // "bfloat16"; empty if absent
  std::string hidden_act = "silu";         // the MLP's activation; "silu" is the only one run

  // Every model type.
  int64_t hidden_size = 0;        // D
  int64_t intermediate_size = 0;  // F, the dense MLP width
  int64_t num_hidden_layers = 0;  // main layers only; V3's MTP layer is extra
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // ignored by MLA, still validated
  // Per-head width of standard attention: head_dim if given, else hidden_size / heads; for
  // deepseek_v2/v3 transformers sets it to qk_rope_head_dim (MLA uses the qk_*/v_* dims).
  int64_t head_dim = 0;
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 0;
  double rope_theta = 10000.0;
  std::optional<RopeScaling> rope_scaling;
  double rms_norm_eps = 1e-6;
  bool attention_bias = false;  // q/k/v/o bias (llama); qwen2's q/k/v bias: see qkv_bias()
  bool mlp_bias = false;        // llama's gate/up/down bias; true is Unimplemented
  bool tie_word_embeddings = false;
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;  // config.json's eos_token_id: an int or a list
  std::optional<int64_t> pad_token_id;

  // qwen2 (the distills set use_sliding_window false and the other two are then unused).
  bool use_sliding_window = false;
  std::optional<int64_t> sliding_window;
  int64_t max_window_layers = 0;

  // MoE: deepseek, deepseek_v2, deepseek_v3 (all 0 / empty for llama and qwen2).
  int64_t moe_intermediate_size = 0;  // Fe
  int64_t n_routed_experts = 0;       // E; 0 = null: every layer dense
  int64_t n_shared_experts = 0;       // Es
  int64_t num_experts_per_tok = 0;    // k
  int64_t first_k_dense_replace = 0;
  int64_t moe_layer_freq = 1;
  int64_t n_group = 0;
  int64_t topk_group = 0;
  std::string topk_method;   // "greedy", "group_limited_greedy", "noaux_tc"
  std::string scoring_func;  // "softmax" or "sigmoid"
  double routed_scaling_factor = 1.0;
  bool norm_topk_prob = false;

  // MLA: deepseek_v2, deepseek_v3.
  std::optional<int64_t> q_lora_rank;  // null (V2-Lite): a plain q_proj
  int64_t kv_lora_rank = 0;
  int64_t qk_nope_head_dim = 0;
  int64_t qk_rope_head_dim = 0;
  int64_t v_head_dim = 0;
  int64_t num_nextn_predict_layers = 0;  // V3: 1 MTP layer stored as layer num_hidden_layers

  std::optional<QuantizationConfig> quantization_config;

  bool uses_mla() const {
    return model_type == HfModelType::kDeepseekV2 || model_type == HfModelType::kDeepseekV3;
  }
  bool is_moe() const { return n_routed_experts > 0; }
  // Qwen2 always has q/k/v biases (its config has no key for them); llama says attention_bias.
  bool qkv_bias() const { return model_type == HfModelType::kQwen2 || attention_bias; }
  int64_t qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  // The rule of DeepSeek's modeling code: routed experts exist, the layer is past the dense
  // prefix and on the MoE frequency.
  bool IsMoeLayer(int64_t layer) const {
    return is_moe() && layer >= first_k_dense_replace && layer % moe_layer_freq == 0;
  }
};

// `file_name` prefixes every error message.
StatusOr<HfConfig> ParseHfConfig(std::string_view json_text, std::string_view file_name);

// `path` is a config.json file or a checkpoint directory holding one.
StatusOr<HfConfig> LoadHfConfig(const std::string& path);

}  // namespace dsinfer

#endif  // DSINFER_FORMATS_HF_CONFIG_H_
