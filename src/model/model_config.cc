#include "model/model_config.h"

#include <string>

#include <fmt/format.h>

#include "formats/hf_config.h"

namespace dsinfer {

std::string_view ModelArchName(ModelArch arch) {
  switch (arch) {
    case ModelArch::kLlama: return "llama";
    case ModelArch::kQwen2: return "qwen2";
    case ModelArch::kDeepseek: return "deepseek";
    case ModelArch::kDeepseek2: return "deepseek2";
  }
  return "?";
}

std::optional<ModelArch> ModelArchFromName(std::string_view name) {
  for (ModelArch arch :
       {ModelArch::kLlama, ModelArch::kQwen2, ModelArch::kDeepseek, ModelArch::kDeepseek2}) {
    if (ModelArchName(arch) == name) return arch;
  }
  return std::nullopt;
}

std::string_view RopeScalingTypeName(RopeScalingType type) {
  switch (type) {
    case RopeScalingType::kNone: return "none";
    case RopeScalingType::kLinear: return "linear";
    case RopeScalingType::kYarn: return "yarn";
    case RopeScalingType::kLlama3: return "llama3";
  }
  return "?";
}

std::string_view TopkMethodName(TopkMethod method) {
  switch (method) {
    case TopkMethod::kGreedy: return "greedy";
    case TopkMethod::kGroupLimitedGreedy: return "group_limited_greedy";
    case TopkMethod::kNoauxTc: return "noaux_tc";
  }
  return "?";
}

namespace {

Status FieldError(std::string_view field, const std::string& problem) {
  return InvalidArgumentError(fmt::format("model config: {} {}", field, problem));
}

Status RequirePositive(std::string_view field, int64_t value) {
  if (value > 0) return Status::Ok();
  return FieldError(field, fmt::format("must be positive, got {}", value));
}

Status ValidateRope(const RopeScalingConfig& rope) {
  if (!(rope.theta > 0))
    return FieldError("rope_theta", fmt::format("must be > 0, got {}", rope.theta));
  switch (rope.scaling) {
    case RopeScalingType::kNone: return Status::Ok();
    case RopeScalingType::kLinear:
      if (!(rope.factor > 0)) {
        return FieldError("rope_scaling.factor", fmt::format("must be > 0, got {}", rope.factor));
      }
      return Status::Ok();
    case RopeScalingType::kYarn:
      if (!(rope.factor >= 1)) {
        return FieldError("rope_scaling.factor", fmt::format("must be >= 1, got {}", rope.factor));
      }
      DSI_RETURN_IF_ERROR(RequirePositive("rope_scaling.original_max_position_embeddings",
                                          rope.original_max_position_embeddings));
      if (!(rope.beta_fast > rope.beta_slow && rope.beta_slow > 0)) {
        return FieldError(
            "rope_scaling.beta_fast",
            fmt::format("({}) must exceed beta_slow ({}) > 0", rope.beta_fast, rope.beta_slow));
      }
      return Status::Ok();
    case RopeScalingType::kLlama3:
      // factor 0: the divisors come from GGUF's rope_freqs.weight (see the header).
      if (rope.factor == 0) return Status::Ok();
      DSI_RETURN_IF_ERROR(RequirePositive("rope_scaling.original_max_position_embeddings",
                                          rope.original_max_position_embeddings));
      if (!(rope.low_freq_factor > 0 && rope.high_freq_factor > rope.low_freq_factor)) {
        return FieldError("rope_scaling.high_freq_factor",
                          fmt::format("({}) must exceed low_freq_factor ({}) > 0",
                                      rope.high_freq_factor, rope.low_freq_factor));
      }
      return Status::Ok();
  }
  return Status::Ok();
}

Status ValidateAttention(const ModelConfig& c) {
  DSI_RETURN_IF_ERROR(RequirePositive("num_attention_heads", c.num_attention_heads));
  if (c.uses_mla()) {
    if (c.q_lora_rank < 0) return FieldError("q_lora_rank", "must not be negative");
    DSI_RETURN_IF_ERROR(RequirePositive("kv_lora_rank", c.kv_lora_rank));
    DSI_RETURN_IF_ERROR(RequirePositive("qk_nope_head_dim", c.qk_nope_head_dim));
    DSI_RETURN_IF_ERROR(RequirePositive("qk_rope_head_dim", c.qk_rope_head_dim));
    DSI_RETURN_IF_ERROR(RequirePositive("v_head_dim", c.v_head_dim));
    if (c.qk_rope_head_dim % 2 != 0) {
      return FieldError("qk_rope_head_dim",
                        fmt::format("must be even, got {}", c.qk_rope_head_dim));
    }
    if (c.head_dim != 0) return FieldError("head_dim", "must be 0 for MLA (deepseek2)");
    return Status::Ok();
  }
  if (c.q_lora_rank != 0 || c.kv_lora_rank != 0) {
    return FieldError("kv_lora_rank",
                      fmt::format("is MLA-only, but arch is {}", ModelArchName(c.arch)));
  }
  DSI_RETURN_IF_ERROR(RequirePositive("num_key_value_heads", c.num_key_value_heads));
  if (c.hidden_size % c.num_attention_heads != 0) {
    return FieldError("num_attention_heads", fmt::format("({}) does not divide hidden_size ({})",
                                                         c.num_attention_heads, c.hidden_size));
  }
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    return FieldError("num_key_value_heads",
                      fmt::format("({}) does not divide num_attention_heads ({})",
                                  c.num_key_value_heads, c.num_attention_heads));
  }
  DSI_RETURN_IF_ERROR(RequirePositive("head_dim", c.head_dim));
  if (c.head_dim % 2 != 0)
    return FieldError("head_dim", fmt::format("must be even, got {}", c.head_dim));
  return Status::Ok();
}

Status ValidateMoe(const ModelConfig& c) {
  if (c.n_routed_experts < 0) return FieldError("n_routed_experts", "must not be negative");
  if (!c.is_moe()) return Status::Ok();
  if (c.arch != ModelArch::kDeepseek && c.arch != ModelArch::kDeepseek2) {
    return FieldError("n_routed_experts",
                      fmt::format("must be 0 for arch {}", ModelArchName(c.arch)));
  }
  DSI_RETURN_IF_ERROR(RequirePositive("moe_intermediate_size", c.moe_intermediate_size));
  DSI_RETURN_IF_ERROR(RequirePositive("num_experts_per_tok", c.num_experts_per_tok));
  DSI_RETURN_IF_ERROR(RequirePositive("moe_layer_freq", c.moe_layer_freq));
  if (c.num_experts_per_tok > c.n_routed_experts) {
    return FieldError("num_experts_per_tok",
                      fmt::format("({}) exceeds n_routed_experts ({})", c.num_experts_per_tok,
                                  c.n_routed_experts));
  }
  if (c.n_shared_experts < 0) return FieldError("n_shared_experts", "must not be negative");
  if (c.first_k_dense_replace < 0 || c.first_k_dense_replace > c.num_hidden_layers) {
    return FieldError("first_k_dense_replace",
                      fmt::format("({}) must be in [0, num_hidden_layers = {}]",
                                  c.first_k_dense_replace, c.num_hidden_layers));
  }
  if (!(c.routed_scaling_factor > 0)) {
    return FieldError("routed_scaling_factor",
                      fmt::format("must be > 0, got {}", c.routed_scaling_factor));
  }
  const bool grouped = c.topk_method != TopkMethod::kGreedy;
  if (c.topk_method == TopkMethod::kNoauxTc && c.scoring_func != ExpertScoring::kSigmoid) {
    return FieldError("topk_method", "noaux_tc needs scoring_func sigmoid");
  }
  if (!grouped) return Status::Ok();
  DSI_RETURN_IF_ERROR(RequirePositive("n_group", c.n_group));
  if (c.n_routed_experts % c.n_group != 0) {
    return FieldError("n_group", fmt::format("({}) does not divide n_routed_experts ({})",
                                             c.n_group, c.n_routed_experts));
  }
  if (c.topk_group < 1 || c.topk_group > c.n_group) {
    return FieldError("topk_group",
                      fmt::format("({}) must be in [1, n_group = {}]", c.topk_group, c.n_group));
  }
  const int64_t candidates = c.topk_group * (c.n_routed_experts / c.n_group);
  if (c.num_experts_per_tok > candidates) {
    return FieldError("num_experts_per_tok",
                      fmt::format("({}) exceeds the {} experts of topk_group groups",
                                  c.num_experts_per_tok, candidates));
  }
  // noaux_tc scores a group by its two best experts.
  if (c.topk_method == TopkMethod::kNoauxTc && c.n_routed_experts / c.n_group < 2) {
    return FieldError("n_group", "noaux_tc needs at least 2 experts per group");
  }
  return Status::Ok();
}

}  // namespace

Status ModelConfig::Validate() const {
  DSI_RETURN_IF_ERROR(RequirePositive("vocab_size", vocab_size));
  DSI_RETURN_IF_ERROR(RequirePositive("hidden_size", hidden_size));
  DSI_RETURN_IF_ERROR(RequirePositive("num_hidden_layers", num_hidden_layers));
  DSI_RETURN_IF_ERROR(RequirePositive("max_position_embeddings", max_position_embeddings));
  if (!(rms_norm_eps > 0))
    return FieldError("rms_norm_eps", fmt::format("must be > 0, got {}", rms_norm_eps));
  DSI_RETURN_IF_ERROR(ValidateAttention(*this));
  DSI_RETURN_IF_ERROR(ValidateMoe(*this));
  DSI_RETURN_IF_ERROR(ValidateRope(rope));
  bool any_dense = false;
  for (int64_t layer = 0; layer < num_hidden_layers && !any_dense; ++layer) {
    any_dense = !IsMoeLayer(layer);
  }
  if (any_dense) DSI_RETURN_IF_ERROR(RequirePositive("intermediate_size", intermediate_size));
  if (qkv_bias && uses_mla()) return FieldError("attention_bias", "is not supported with MLA");
  if (num_nextn_predict_layers < 0) {
    return FieldError("num_nextn_predict_layers", "must not be negative");
  }
  for (const auto& [field, id] :
       {std::pair{"bos_token_id", bos_token_id}, std::pair{"eos_token_id", eos_token_id}}) {
    if (id && (*id < 0 || *id >= vocab_size)) {
      return FieldError(field,
                        fmt::format("({}) is outside the vocabulary [0, {})", *id, vocab_size));
    }
  }
  return Status::Ok();
}

StatusOr<ModelConfig> ModelConfig::FromHfConfig(const HfConfig& hf) {
  ModelConfig c;
  switch (hf.model_type) {
    case HfModelType::kLlama: c.arch = ModelArch::kLlama; break;
    case HfModelType::kQwen2: c.arch = ModelArch::kQwen2; break;
    case HfModelType::kDeepseek: c.arch = ModelArch::kDeepseek; break;
    case HfModelType::kDeepseekV2:
    case HfModelType::kDeepseekV3: c.arch = ModelArch::kDeepseek2; break;
  }
  c.vocab_size = hf.vocab_size;
  c.hidden_size = hf.hidden_size;
  c.intermediate_size = hf.intermediate_size;
  c.num_hidden_layers = hf.num_hidden_layers;
  c.num_attention_heads = hf.num_attention_heads;
  c.num_key_value_heads = hf.uses_mla() ? hf.num_attention_heads : hf.num_key_value_heads;
  c.head_dim = hf.uses_mla() ? 0 : hf.head_dim;
  c.max_position_embeddings = hf.max_position_embeddings;
  c.rms_norm_eps = hf.rms_norm_eps;
  c.rope.theta = hf.rope_theta;
  if (hf.rope_scaling) {
    const RopeScaling& rs = *hf.rope_scaling;
    if (rs.type == "linear") {
      c.rope.scaling = RopeScalingType::kLinear;
    } else if (rs.type == "yarn") {
      c.rope.scaling = RopeScalingType::kYarn;
    } else if (rs.type == "llama3") {
      c.rope.scaling = RopeScalingType::kLlama3;
    } else {
      return UnimplementedError(
          fmt::format("model config: rope_scaling.type '{}' is not run", rs.type));
    }
    c.rope.factor = rs.factor;
    c.rope.original_max_position_embeddings = rs.original_max_position_embeddings.value_or(0);
    if (c.rope.scaling == RopeScalingType::kYarn) {
      c.rope.beta_fast = rs.beta_fast;
      c.rope.beta_slow = rs.beta_slow;
      c.rope.mscale = rs.mscale;
      c.rope.mscale_all_dim = rs.mscale_all_dim;
    }
    c.rope.low_freq_factor = rs.low_freq_factor;
    c.rope.high_freq_factor = rs.high_freq_factor;
  }
  c.qkv_bias = hf.qkv_bias();
  c.tie_word_embeddings = hf.tie_word_embeddings;
  if (hf.uses_mla()) {
    c.q_lora_rank = hf.q_lora_rank.value_or(0);
    c.kv_lora_rank = hf.kv_lora_rank;
    c.qk_nope_head_dim = hf.qk_nope_head_dim;
    c.qk_rope_head_dim = hf.qk_rope_head_dim;
    c.v_head_dim = hf.v_head_dim;
    c.num_nextn_predict_layers = hf.num_nextn_predict_layers;
  }
  if (hf.is_moe()) {
    c.n_routed_experts = hf.n_routed_experts;
    c.n_shared_experts = hf.n_shared_experts;
    c.num_experts_per_tok = hf.num_experts_per_tok;
    c.moe_intermediate_size = hf.moe_intermediate_size;
    c.first_k_dense_replace = hf.first_k_dense_replace;
    c.moe_layer_freq = hf.moe_layer_freq;
    c.n_group = hf.n_group;
    c.topk_group = hf.topk_group;
    c.scoring_func =
        hf.scoring_func == "sigmoid" ? ExpertScoring::kSigmoid : ExpertScoring::kSoftmax;
    if (hf.topk_method == "noaux_tc") {
      c.topk_method = TopkMethod::kNoauxTc;
    } else if (hf.topk_method == "group_limited_greedy") {
      c.topk_method = TopkMethod::kGroupLimitedGreedy;
    }
    c.norm_topk_prob = hf.norm_topk_prob;
    c.routed_scaling_factor = hf.routed_scaling_factor;
  }
  c.bos_token_id = hf.bos_token_id;
  if (!hf.eos_token_ids.empty()) c.eos_token_id = hf.eos_token_ids.front();
  DSI_RETURN_IF_ERROR(c.Validate());
  return c;
}

}  // namespace dsinfer
