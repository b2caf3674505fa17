// ModelConfig: every hyper-parameter the forward pass needs, one struct for the four GGUF
// architectures dsinfer runs (shared/reference/deepseek-models.md §1):
//
//   llama      DeepSeek-LLM, DeepSeek-Coder v1, R1-Distill-Llama
//   qwen2      R1-Distill-Qwen (q/k/v biases)
//   deepseek   DeepSeek-MoE-16B (standard attention, softmax-greedy MoE)
//   deepseek2  DeepSeek-V2, V2-Lite, V3, R1 (MLA + MoE; HF deepseek_v2 and deepseek_v3)
//
// Field names are those of DeepSeek's config.json, verbatim. It is built from a GGUF file's
// llama.cpp metadata (FromGguf) or from a parsed HF config.json (FromHfConfig); both call
// Validate(), whose errors name the config.json field (and the GGUF key where one was read).
//
// What GGUF does not carry, and how FromGguf fills it:
//   * topk_method: noaux_tc for sigmoid gating, group_limited_greedy for softmax with
//     expert_group_count > 1, else greedy (llama.cpp's own rule).
//   * llama3 RoPE: the converter stores per-frequency divisors in the tensor rope_freqs.weight
//     instead of keys, so rope.scaling is kLlama3 with factor etc. 0 ("read the tensor").
//   * mscale: GGUF keeps only yarn_log_multiplier = 0.1 * mscale_all_dim; every DeepSeek config
//     has mscale == mscale_all_dim, so mscale is set equal to it.
//   * moe_layer_freq is always 1 (llama.cpp assumes it); num_key_value_heads of an MLA model is
//     num_attention_heads (GGUF's head_count_kv 1 describes llama.cpp's MQA form, not HF's).
//   * The V3 multi-token-prediction layer: llama.cpp drops it by default and so does dsinfer;
//     num_nextn_predict_layers records how many the checkpoint had (0 when unknown). It is never
//     part of num_hidden_layers and no tensor of it is loaded or written.
//
// Thread safety: plain values.
#ifndef DSINFER_MODEL_MODEL_CONFIG_H_
#define DSINFER_MODEL_MODEL_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "base/status.h"
#include "kernels/reference/rope.h"  // RopeScalingType

namespace dsinfer {

class GgufFile;
struct HfConfig;

enum class ModelArch { kLlama, kQwen2, kDeepseek, kDeepseek2 };

// GGUF general.architecture spelling: "llama", "qwen2", "deepseek", "deepseek2".
std::string_view ModelArchName(ModelArch arch);
std::optional<ModelArch> ModelArchFromName(std::string_view name);

std::string_view RopeScalingTypeName(RopeScalingType type);  // "none", "linear", ...

enum class ExpertScoring { kSoftmax, kSigmoid };  // config.json scoring_func
enum class TopkMethod { kGreedy, kGroupLimitedGreedy, kNoauxTc };
std::string_view TopkMethodName(TopkMethod method);  // config.json spelling

// config.json rope_theta and rope_scaling (the model-wide values; kernels::RopeConfig adds the
// rotary width of one use).
struct RopeScalingConfig {
  double theta = 10000.0;  // rope_theta
  RopeScalingType scaling = RopeScalingType::kNone;
  double factor = 1.0;                           // linear, yarn, llama3
  int64_t original_max_position_embeddings = 0;  // yarn, llama3
  double beta_fast = 32.0;                       // yarn
  double beta_slow = 1.0;                        // yarn
  double mscale = 1.0;                           // yarn: cos/sin magnitude numerator
  double mscale_all_dim = 0.0;                   // yarn: enters the softmax scale squared
  double low_freq_factor = 0.0;                  // llama3
  double high_freq_factor = 0.0;                 // llama3

  friend bool operator==(const RopeScalingConfig&, const RopeScalingConfig&) = default;
};

struct ModelConfig {
  ModelArch arch = ModelArch::kLlama;

  int64_t vocab_size = 0;               // V, rows of token_embd
  int64_t hidden_size = 0;              // D
  int64_t intermediate_size = 0;        // F, width of the dense SwiGLU MLP
  int64_t num_hidden_layers = 0;        // main decoder layers (never the MTP layer)
  int64_t num_attention_heads = 0;      // H
  int64_t num_key_value_heads = 0;      // Hkv (standard attention; MLA: == H, unused)
  int64_t head_dim = 0;                 // q/k/v width per head; 0 for MLA (uses the dims below)
  int64_t max_position_embeddings = 0;  // GGUF context_length
  double rms_norm_eps = 1e-6;
  RopeScalingConfig rope;
  bool qkv_bias = false;  // q/k/v projections have biases (qwen2)
  bool tie_word_embeddings = false;

  // MLA (deepseek2 only).
  int64_t q_lora_rank = 0;       // rq; 0: plain q projection (V2-Lite)
  int64_t kv_lora_rank = 0;      // rkv
  int64_t qk_nope_head_dim = 0;  // dn
  int64_t qk_rope_head_dim = 0;  // dr
  int64_t v_head_dim = 0;        // dv

  // MoE (deepseek, deepseek2); n_routed_experts 0 = every layer dense.
  int64_t n_routed_experts = 0;       // E
  int64_t n_shared_experts = 0;       // Es
  int64_t num_experts_per_tok = 0;    // k
  int64_t moe_intermediate_size = 0;  // Fe
  int64_t first_k_dense_replace = 0;
  int64_t moe_layer_freq = 1;
  int64_t n_group = 0;  // 0 or 1: no expert groups
  int64_t topk_group = 0;
  ExpertScoring scoring_func = ExpertScoring::kSoftmax;
  TopkMethod topk_method = TopkMethod::kGreedy;
  bool norm_topk_prob = false;
  double routed_scaling_factor = 1.0;

  int64_t num_nextn_predict_layers = 0;  // V3 MTP layers: recorded, skipped

  std::optional<int64_t> bos_token_id;
  std::optional<int64_t> eos_token_id;

  bool uses_mla() const { return arch == ModelArch::kDeepseek2; }
  bool is_moe() const { return n_routed_experts > 0; }
  // DeepSeek's modeling-code rule (reference §3.10).
  bool IsMoeLayer(int64_t layer) const {
    return is_moe() && layer >= first_k_dense_replace && layer % moe_layer_freq == 0;
  }
  int64_t qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  // V3's e_score_correction_bias (GGUF exp_probs_b) exists exactly for noaux_tc routing.
  bool has_expert_bias() const { return is_moe() && topk_method == TopkMethod::kNoauxTc; }

  // Reads llama.cpp's metadata keys (formats/gguf_names.h) and the presence of output.weight,
  // rope_freqs.weight and blk.0.attn_q.bias; validates.
  static StatusOr<ModelConfig> FromGguf(const GgufFile& file);
  // Maps an already parsed config.json; validates.
  static StatusOr<ModelConfig> FromHfConfig(const HfConfig& hf);

  // InvalidArgument naming the field for a value the forward pass cannot run.
  Status Validate() const;

  friend bool operator==(const ModelConfig&, const ModelConfig&) = default;
};

}  // namespace dsinfer

#endif  // DSINFER_MODEL_MODEL_CONFIG_H_
