#include "model/hf_config_json.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace dsinfer {

namespace {

using Json = nlohmann::json;  // std::map objects: keys sorted, as json.dumps(sort_keys=True)

constexpr int64_t kFp8Block = 128;  // V3's weight_block_size

Json OptionalId(const std::optional<int64_t>& id) { return id ? Json(*id) : Json(nullptr); }

Json CountOrNull(int64_t n) { return n > 0 ? Json(n) : Json(nullptr); }

Json RopeScalingJson(const RopeScalingConfig& rope) {
  switch (rope.scaling) {
    case RopeScalingType::kNone: return nullptr;
    case RopeScalingType::kLinear: return {{"type", "linear"}, {"factor", rope.factor}};
    case RopeScalingType::kYarn:
      // DeepSeek-V2/V3's dict (tests/data/hf/deepseek_v3/config.json).
      return {{"type", "yarn"},
              {"factor", rope.factor},
              {"original_max_position_embeddings", rope.original_max_position_embeddings},
              {"beta_fast", rope.beta_fast},
              {"beta_slow", rope.beta_slow},
              {"mscale", rope.mscale},
              {"mscale_all_dim", rope.mscale_all_dim}};
    case RopeScalingType::kLlama3:
      // R1-Distill-Llama's dict (transformers' newer "rope_type" spelling).
      return {{"rope_type", "llama3"},
              {"factor", rope.factor},
              {"low_freq_factor", rope.low_freq_factor},
              {"high_freq_factor", rope.high_freq_factor},
              {"original_max_position_embeddings", rope.original_max_position_embeddings}};
  }
  return nullptr;
}

std::string_view TorchDtype(DType weights) {
  switch (weights) {
    case DType::kF32: return "float32";
    case DType::kF16: return "float16";
    default: return "bfloat16";  // BF16, and FP8 checkpoints (their other tensors are BF16)
  }
}

Status Inexpressible(std::string_view what) {
  return UnimplementedError(fmt::format("config.json cannot express {}", what));
}

// The MoE keys every DeepSeek class reads.
void AddMoe(const ModelConfig& c, Json& j) {
  j["n_routed_experts"] = CountOrNull(c.n_routed_experts);
  j["n_shared_experts"] = CountOrNull(c.n_shared_experts);
  j["num_experts_per_tok"] = CountOrNull(c.num_experts_per_tok);
  j["moe_intermediate_size"] = c.moe_intermediate_size;
  j["first_k_dense_replace"] = c.first_k_dense_replace;
  j["moe_layer_freq"] = c.moe_layer_freq;
  j["norm_topk_prob"] = c.norm_topk_prob;
  j["scoring_func"] = c.scoring_func == ExpertScoring::kSigmoid ? "sigmoid" : "softmax";
  j["aux_loss_alpha"] = 0.001;
  j["seq_aux"] = true;
}

}  // namespace

StatusOr<std::string> HfConfigJsonFor(const ModelConfig& c, DType weights) {
  DSI_RETURN_IF_ERROR(c.Validate());
  Json j;
  const bool v3 = c.arch == ModelArch::kDeepseek2 && c.topk_method == TopkMethod::kNoauxTc;
  switch (c.arch) {
    case ModelArch::kLlama:
      j["model_type"] = "llama";
      j["architectures"] = {"LlamaForCausalLM"};
      break;
    case ModelArch::kQwen2:
      j["model_type"] = "qwen2";
      j["architectures"] = {"Qwen2ForCausalLM"};
      break;
    case ModelArch::kDeepseek:
      j["model_type"] = "deepseek";
      j["architectures"] = {"DeepseekForCausalLM"};
      break;
    case ModelArch::kDeepseek2:
      j["model_type"] = v3 ? "deepseek_v3" : "deepseek_v2";
      j["architectures"] = {v3 ? "DeepseekV3ForCausalLM" : "DeepseekV2ForCausalLM"};
      break;
  }
  if (c.arch == ModelArch::kQwen2 ? !c.qkv_bias : c.qkv_bias) {
    return Inexpressible(
        fmt::format("{} with{} q/k/v biases", ModelArchName(c.arch), c.qkv_bias ? "" : "out"));
  }
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["rope_theta"] = c.rope.theta;
  j["rope_scaling"] = RopeScalingJson(c.rope);
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["bos_token_id"] = OptionalId(c.bos_token_id);
  j["eos_token_id"] = OptionalId(c.eos_token_id);
  j["hidden_act"] = "silu";
  j["initializer_range"] = 0.02;
  j["use_cache"] = true;
  j["torch_dtype"] = std::string(TorchDtype(weights));
  j["attention_dropout"] = 0.0;
  if (c.arch != ModelArch::kQwen2) j["attention_bias"] = false;
  if (!c.uses_mla() && c.head_dim * c.num_attention_heads != c.hidden_size) {
    j["head_dim"] = c.head_dim;
  }
  if (c.arch == ModelArch::kLlama) {
    j["mlp_bias"] = false;
    j["pretraining_tp"] = 1;
  }
  if (c.arch == ModelArch::kQwen2) {
    j["use_sliding_window"] = false;
    j["sliding_window"] = c.max_position_embeddings;
    j["max_window_layers"] = c.num_hidden_layers;
  }
  if (c.arch == ModelArch::kDeepseek) {
    // DeepseekConfig has no group, method or scale keys: its gate is softmax top-k, unscaled.
    if (c.is_moe() &&
        (c.scoring_func != ExpertScoring::kSoftmax || c.topk_method != TopkMethod::kGreedy ||
         c.n_group > 1 || c.routed_scaling_factor != 1.0)) {
      return Inexpressible("deepseek (MoE-16B) routing other than softmax greedy, unscaled");
    }
    AddMoe(c, j);
  }
  if (c.uses_mla()) {
    if (v3 != (c.scoring_func == ExpertScoring::kSigmoid) && c.is_moe()) {
      return Inexpressible(
          "sigmoid scores without noaux_tc (deepseek_v3) or noaux_tc without them (deepseek_v2)");
    }
    AddMoe(c, j);
    j["n_group"] = CountOrNull(c.n_group);
    j["topk_group"] = CountOrNull(c.topk_group);
    j["topk_method"] = std::string(TopkMethodName(c.topk_method));
    j["routed_scaling_factor"] = c.routed_scaling_factor;
    j["q_lora_rank"] = c.q_lora_rank > 0 ? Json(c.q_lora_rank) : Json(nullptr);
    j["kv_lora_rank"] = c.kv_lora_rank;
    j["qk_nope_head_dim"] = c.qk_nope_head_dim;
    j["qk_rope_head_dim"] = c.qk_rope_head_dim;
    j["v_head_dim"] = c.v_head_dim;
    if (v3 || c.num_nextn_predict_layers > 0) {
      j["num_nextn_predict_layers"] = c.num_nextn_predict_layers;
    }
    j["ep_size"] = 1;
  }
  if (weights == DType::kF8E4M3) {
    j["quantization_config"] = {{"quant_method", "fp8"},
                                {"fmt", "e4m3"},
                                {"activation_scheme", "dynamic"},
                                {"weight_block_size", {kFp8Block, kFp8Block}}};
  }
  return j.dump(2) + "\n";
}

}  // namespace dsinfer
