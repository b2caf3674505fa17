#include "formats/hf_config.h"

#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/utf8.h"
#include "formats/hf_config_defaults.h"
#include "formats/json_fields.h"
#include "platform/read_file.h"

namespace dsinfer {
namespace {

using Json = nlohmann::json;

// Real configs are a few KB; the cap only stops a misnamed weight file being read whole.
constexpr size_t kMaxConfigBytes = size_t{16} << 20;
constexpr std::string_view kSupportedTypes = "llama, qwen2, deepseek, deepseek_v2, deepseek_v3";

std::optional<HfModelType> ModelTypeFromName(std::string_view name) {
  for (HfModelType t : {HfModelType::kLlama, HfModelType::kQwen2, HfModelType::kDeepseek,
                        HfModelType::kDeepseekV2, HfModelType::kDeepseekV3}) {
    if (HfModelTypeName(t) == name) return t;
  }
  return std::nullopt;
}

Status ReadCommon(const JsonFields& r, HfConfig* c) {
  DSI_RETURN_IF_ERROR(r.StringList("architectures", &c->architectures));
  DSI_RETURN_IF_ERROR(r.StringOrNull("torch_dtype", &c->torch_dtype));
  if (r.Find("torch_dtype") == nullptr) {
    // transformers >= 4.56 writes "dtype" instead.
    DSI_RETURN_IF_ERROR(r.StringOrNull("dtype", &c->torch_dtype));
  }
  DSI_RETURN_IF_ERROR(r.String("hidden_act", &c->hidden_act));
  DSI_RETURN_IF_ERROR(r.Int("hidden_size", &c->hidden_size));
  DSI_RETURN_IF_ERROR(r.Int("intermediate_size", &c->intermediate_size));
  DSI_RETURN_IF_ERROR(r.Int("num_hidden_layers", &c->num_hidden_layers));
  DSI_RETURN_IF_ERROR(r.Int("num_attention_heads", &c->num_attention_heads));
  DSI_RETURN_IF_ERROR(r.CountOrNull("num_key_value_heads", &c->num_key_value_heads));
  DSI_RETURN_IF_ERROR(r.CountOrNull("head_dim", &c->head_dim));
  DSI_RETURN_IF_ERROR(r.Int("vocab_size", &c->vocab_size));
  DSI_RETURN_IF_ERROR(r.Int("max_position_embeddings", &c->max_position_embeddings));
  DSI_RETURN_IF_ERROR(r.Double("rms_norm_eps", &c->rms_norm_eps));
  DSI_RETURN_IF_ERROR(r.Bool("attention_bias", &c->attention_bias));
  DSI_RETURN_IF_ERROR(r.Bool("tie_word_embeddings", &c->tie_word_embeddings));
  DSI_RETURN_IF_ERROR(r.Int("bos_token_id", &c->bos_token_id));
  DSI_RETURN_IF_ERROR(r.TokenIds("eos_token_id", &c->eos_token_ids));
  DSI_RETURN_IF_ERROR(r.Int("pad_token_id", &c->pad_token_id));
  return Status::Ok();
}

// Keys of LlamaConfig that the other classes lack.
Status ReadLlama(const JsonFields& r, HfConfig* c) { return r.Bool("mlp_bias", &c->mlp_bias); }

Status ReadQwen2(const JsonFields& r, HfConfig* c) {
  DSI_RETURN_IF_ERROR(r.Bool("use_sliding_window", &c->use_sliding_window));
  DSI_RETURN_IF_ERROR(r.Int("sliding_window", &c->sliding_window));
  DSI_RETURN_IF_ERROR(r.Int("max_window_layers", &c->max_window_layers));
  return Status::Ok();
}

// The MoE keys; the deepseek (MoE-16B) class has only the first eight.
Status ReadMoe(const JsonFields& r, HfConfig* c) {
  DSI_RETURN_IF_ERROR(r.Int("moe_intermediate_size", &c->moe_intermediate_size));
  DSI_RETURN_IF_ERROR(r.CountOrNull("n_routed_experts", &c->n_routed_experts));
  DSI_RETURN_IF_ERROR(r.CountOrNull("n_shared_experts", &c->n_shared_experts));
  DSI_RETURN_IF_ERROR(r.CountOrNull("num_experts_per_tok", &c->num_experts_per_tok));
  DSI_RETURN_IF_ERROR(r.Int("first_k_dense_replace", &c->first_k_dense_replace));
  DSI_RETURN_IF_ERROR(r.Int("moe_layer_freq", &c->moe_layer_freq));
  DSI_RETURN_IF_ERROR(r.Bool("norm_topk_prob", &c->norm_topk_prob));
  DSI_RETURN_IF_ERROR(r.String("scoring_func", &c->scoring_func));
  if (c->model_type == HfModelType::kDeepseek) return Status::Ok();
  DSI_RETURN_IF_ERROR(r.CountOrNull("n_group", &c->n_group));
  DSI_RETURN_IF_ERROR(r.CountOrNull("topk_group", &c->topk_group));
  DSI_RETURN_IF_ERROR(r.String("topk_method", &c->topk_method));
  DSI_RETURN_IF_ERROR(r.Double("routed_scaling_factor", &c->routed_scaling_factor));
  return Status::Ok();
}

Status ReadMla(const JsonFields& r, HfConfig* c) {
  DSI_RETURN_IF_ERROR(r.Int("q_lora_rank", &c->q_lora_rank));
  DSI_RETURN_IF_ERROR(r.Int("kv_lora_rank", &c->kv_lora_rank));
  DSI_RETURN_IF_ERROR(r.Int("qk_nope_head_dim", &c->qk_nope_head_dim));
  DSI_RETURN_IF_ERROR(r.Int("qk_rope_head_dim", &c->qk_rope_head_dim));
  DSI_RETURN_IF_ERROR(r.Int("v_head_dim", &c->v_head_dim));
  DSI_RETURN_IF_ERROR(r.Int("num_nextn_predict_layers", &c->num_nextn_predict_layers));
  return Status::Ok();
}

// rope_theta, and rope_scaling (or the newer rope_parameters, which also carries rope_theta).
Status ReadRope(const JsonFields& r, std::string_view file, HfConfig* c) {
  DSI_RETURN_IF_ERROR(r.Double("rope_theta", &c->rope_theta));
  std::string field = "rope_scaling";
  const Json* scaling = r.Find(field);
  if (scaling == nullptr || scaling->is_null()) {
    field = "rope_parameters";
    scaling = r.Find(field);
  }
  if (scaling == nullptr || scaling->is_null()) return Status::Ok();
  if (!scaling->is_object()) return r.TypeError(field, "an object or null", *scaling);

  const JsonFields s = r.Nested(*scaling, field);
  if (field == "rope_parameters") DSI_RETURN_IF_ERROR(s.Double("rope_theta", &c->rope_theta));
  std::string type, rope_type;
  DSI_RETURN_IF_ERROR(s.String("type", &type));
  DSI_RETURN_IF_ERROR(s.String("rope_type", &rope_type));
  if (!type.empty() && !rope_type.empty() && type != rope_type) {
    return s.Error("rope_type", fmt::format("'{}' disagrees with type '{}'",
                                            EscapeForMessage(rope_type), EscapeForMessage(type)));
  }
  if (type.empty()) type = rope_type;
  if (type.empty()) return s.Error("type", "missing (neither \"type\" nor \"rope_type\" is set)");
  if (type == "default") return Status::Ok();
  if (type != "linear" && type != "dynamic" && type != "yarn" && type != "llama3") {
    return UnimplementedError(
        fmt::format("{}: {}.type: '{}' is not supported (supported: "
                    "default, linear, dynamic, yarn, llama3)",
                    file, field, EscapeForMessage(type)));
  }
  RopeScaling rs;
  rs.type = type;
  if (s.Find("factor") == nullptr) return s.Error("factor", "missing (required by " + type + ")");
  DSI_RETURN_IF_ERROR(s.Double("factor", &rs.factor));
  if (!(rs.factor > 0)) return s.Error("factor", fmt::format("{} is not positive", rs.factor));
  DSI_RETURN_IF_ERROR(
      s.Int("original_max_position_embeddings", &rs.original_max_position_embeddings));
  if (rs.original_max_position_embeddings && *rs.original_max_position_embeddings <= 0) {
    return s.Error("original_max_position_embeddings",
                   fmt::format("{} is not positive", *rs.original_max_position_embeddings));
  }
  DSI_RETURN_IF_ERROR(s.Double("beta_fast", &rs.beta_fast));
  DSI_RETURN_IF_ERROR(s.Double("beta_slow", &rs.beta_slow));
  DSI_RETURN_IF_ERROR(s.Double("mscale", &rs.mscale));
  DSI_RETURN_IF_ERROR(s.Double("mscale_all_dim", &rs.mscale_all_dim));
  if (type == "llama3") {
    // HF's llama3 rope reads all three without defaults; the smoothing divides by high - low.
    for (std::string_view key :
         {"low_freq_factor", "high_freq_factor", "original_max_position_embeddings"}) {
      if (s.Find(key) == nullptr) return s.Error(key, "missing (required by llama3)");
    }
    DSI_RETURN_IF_ERROR(s.Double("low_freq_factor", &rs.low_freq_factor));
    DSI_RETURN_IF_ERROR(s.Double("high_freq_factor", &rs.high_freq_factor));
    if (!(rs.low_freq_factor > 0)) {
      return s.Error("low_freq_factor", fmt::format("{} is not positive", rs.low_freq_factor));
    }
    if (!(rs.high_freq_factor > rs.low_freq_factor)) {
      return s.Error("high_freq_factor", fmt::format("{} is not greater than low_freq_factor {}",
                                                     rs.high_freq_factor, rs.low_freq_factor));
    }
    if (!rs.original_max_position_embeddings) {
      return s.Error("original_max_position_embeddings", "null (required by llama3)");
    }
  }
  c->rope_scaling = std::move(rs);
  return Status::Ok();
}

Status ReadQuantization(const JsonFields& r, HfConfig* c) {
  const Json* q = r.Find("quantization_config");
  if (q == nullptr || q->is_null()) return Status::Ok();
  if (!q->is_object()) return r.TypeError("quantization_config", "an object or null", *q);
  const JsonFields s = r.Nested(*q, "quantization_config");
  QuantizationConfig qc;
  if (s.Find("quant_method") == nullptr) return s.Error("quant_method", "missing");
  DSI_RETURN_IF_ERROR(s.String("quant_method", &qc.quant_method));
  DSI_RETURN_IF_ERROR(s.StringOrNull("fmt", &qc.fmt));
  DSI_RETURN_IF_ERROR(s.StringOrNull("activation_scheme", &qc.activation_scheme));
  DSI_RETURN_IF_ERROR(s.StringOrNull("scale_fmt", &qc.scale_fmt));
  if (const Json* block = s.Find("weight_block_size"); block != nullptr && !block->is_null()) {
    if (!block->is_array()) return s.TypeError("weight_block_size", "a list of integers", *block);
    for (const auto& item : *block) {
      const std::optional<int64_t> n = JsonInt64(item);
      if (!n || *n <= 0) {
        return s.TypeError("weight_block_size", "a list of positive integers", *block);
      }
      qc.weight_block_size.push_back(*n);
    }
    // FP8 blocks tile [out, in] (reference §4).
    if (qc.quant_method == "fp8" && qc.weight_block_size.size() != 2) {
      return s.Error("weight_block_size", fmt::format("has {} entries; fp8 blocks are [rows, cols]",
                                                      qc.weight_block_size.size()));
    }
  }
  c->quantization_config = std::move(qc);
  return Status::Ok();
}

// Fills the keys whose HF default depends on other keys.
Status Derive(const JsonFields& r, HfConfig* c) {
  if (c->num_key_value_heads == 0) c->num_key_value_heads = c->num_attention_heads;
  if (c->uses_mla()) {
    c->head_dim = c->qk_rope_head_dim;  // transformers' DeepseekV2/V3Config do this regardless
  } else if (c->head_dim == 0 && c->num_attention_heads > 0) {
    if (c->hidden_size % c->num_attention_heads != 0) {
      return r.Error("hidden_size", fmt::format("{} is not divisible by num_attention_heads {}",
                                                c->hidden_size, c->num_attention_heads));
    }
    c->head_dim = c->hidden_size / c->num_attention_heads;
  }
  return Status::Ok();
}

Status RequirePositive(const JsonFields& r, std::string_view key, int64_t value) {
  return value > 0 ? Status::Ok() : r.Error(key, fmt::format("{} is not positive", value));
}

Status Unsupported(std::string_view file, std::string_view key, std::string_view value,
                   std::string_view model_type, std::string_view supported) {
  return UnimplementedError(fmt::format("{}: {}: '{}' is not supported for {} (supported: {})",
                                        file, key, EscapeForMessage(value), model_type, supported));
}

Status ValidateCommon(const JsonFields& r, std::string_view file, const HfConfig& c) {
  const std::string_view type = HfModelTypeName(c.model_type);
  // Every class here builds its MLP as down(act(gate(x)) * up(x)) with ACT2FN[hidden_act]; SiLU
  // (SwiGLU) is what the checkpoints use and the only act implemented.
  if (c.hidden_act != "silu") return Unsupported(file, "hidden_act", c.hidden_act, type, "silu");
  if (c.mlp_bias) return Unsupported(file, "mlp_bias", "true", type, "false");
  DSI_RETURN_IF_ERROR(RequirePositive(r, "hidden_size", c.hidden_size));
  DSI_RETURN_IF_ERROR(RequirePositive(r, "intermediate_size", c.intermediate_size));
  DSI_RETURN_IF_ERROR(RequirePositive(r, "num_hidden_layers", c.num_hidden_layers));
  DSI_RETURN_IF_ERROR(RequirePositive(r, "num_attention_heads", c.num_attention_heads));
  DSI_RETURN_IF_ERROR(RequirePositive(r, "num_key_value_heads", c.num_key_value_heads));
  DSI_RETURN_IF_ERROR(RequirePositive(r, "vocab_size", c.vocab_size));
  DSI_RETURN_IF_ERROR(RequirePositive(r, "max_position_embeddings", c.max_position_embeddings));
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    return r.Error("num_key_value_heads",
                   fmt::format("{} does not divide num_attention_heads {}", c.num_key_value_heads,
                               c.num_attention_heads));
  }
  if (!c.uses_mla()) {
    DSI_RETURN_IF_ERROR(RequirePositive(r, "head_dim", c.head_dim));
    // RoPE rotates pairs of dimensions.
    if (c.head_dim % 2 != 0) return r.Error("head_dim", fmt::format("{} is odd", c.head_dim));
  }
  if (!(c.rope_theta > 0))
    return r.Error("rope_theta", fmt::format("{} is not positive", c.rope_theta));
  if (!(c.rms_norm_eps > 0 && c.rms_norm_eps < 1)) {
    return r.Error("rms_norm_eps", fmt::format("{} is not in (0, 1)", c.rms_norm_eps));
  }
  if (c.bos_token_id && (*c.bos_token_id < 0 || *c.bos_token_id >= c.vocab_size)) {
    return r.Error("bos_token_id", fmt::format("{} is outside the vocabulary [0, {})",
                                               *c.bos_token_id, c.vocab_size));
  }
  for (int64_t id : c.eos_token_ids) {
    if (id < 0 || id >= c.vocab_size) {
      return r.Error("eos_token_id",
                     fmt::format("{} is outside the vocabulary [0, {})", id, c.vocab_size));
    }
  }
  if (c.model_type == HfModelType::kQwen2) {
    if (c.use_sliding_window && (!c.sliding_window || *c.sliding_window <= 0)) {
      return r.Error("sliding_window",
                     "must be a positive integer when use_sliding_window is "
                     "true");
    }
    if (c.max_window_layers < 0) {
      return r.Error("max_window_layers", fmt::format("{} is negative", c.max_window_layers));
    }
  }
  return Status::Ok();
}

Status ValidateMoe(const JsonFields& r, std::string_view file, const HfConfig& c) {
  const std::string_view type = HfModelTypeName(c.model_type);
  if (c.n_routed_experts < 0) {
    return r.Error("n_routed_experts", fmt::format("{} is negative", c.n_routed_experts));
  }
  if (!c.is_moe()) return Status::Ok();  // null experts: every layer is a dense MLP
  DSI_RETURN_IF_ERROR(RequirePositive(r, "moe_intermediate_size", c.moe_intermediate_size));
  if (c.num_experts_per_tok == 0) {
    return r.Error("num_experts_per_tok", fmt::format("null or absent, but a MoE model (n_routed_"
                                                      "experts = {}) needs it",
                                                      c.n_routed_experts));
  }
  if (c.num_experts_per_tok < 0 || c.num_experts_per_tok > c.n_routed_experts) {
    return r.Error("num_experts_per_tok", fmt::format("{} is not in [1, n_routed_experts = {}]",
                                                      c.num_experts_per_tok, c.n_routed_experts));
  }
  if (c.n_shared_experts < 0) {
    return r.Error("n_shared_experts", fmt::format("{} is negative", c.n_shared_experts));
  }
  if (c.first_k_dense_replace < 0 || c.first_k_dense_replace > c.num_hidden_layers) {
    return r.Error("first_k_dense_replace",
                   fmt::format("{} is not in [0, num_hidden_layers = {}]", c.first_k_dense_replace,
                               c.num_hidden_layers));
  }
  DSI_RETURN_IF_ERROR(RequirePositive(r, "moe_layer_freq", c.moe_layer_freq));
  if (!(c.routed_scaling_factor > 0)) {
    return r.Error("routed_scaling_factor",
                   fmt::format("{} is not positive", c.routed_scaling_factor));
  }
  // What DeepSeek's remote MoEGate runs for each class; anything else raises there.
  if (c.model_type == HfModelType::kDeepseekV3) {
    if (c.scoring_func != "sigmoid") {
      return Unsupported(file, "scoring_func", c.scoring_func, type, "sigmoid");
    }
    if (c.topk_method != "noaux_tc") {
      return Unsupported(file, "topk_method", c.topk_method, type, "noaux_tc");
    }
  } else {
    if (c.scoring_func != "softmax") {
      return Unsupported(file, "scoring_func", c.scoring_func, type, "softmax");
    }
    if (c.topk_method != "greedy" && c.topk_method != "group_limited_greedy") {
      return Unsupported(file, "topk_method", c.topk_method, type, "greedy, group_limited_greedy");
    }
  }
  const bool grouped = c.topk_method == "group_limited_greedy" || c.topk_method == "noaux_tc";
  if (grouped || c.n_group > 0) {
    if (c.n_group <= 0) {
      return r.Error("n_group", fmt::format("must be positive for topk_method {}", c.topk_method));
    }
    if (c.n_routed_experts % c.n_group != 0) {
      return r.Error("n_group", fmt::format("{} does not divide n_routed_experts {}", c.n_group,
                                            c.n_routed_experts));
    }
    if (c.topk_group <= 0 || c.topk_group > c.n_group) {
      return r.Error("topk_group",
                     fmt::format("{} is not in [1, n_group = {}]", c.topk_group, c.n_group));
    }
    // The experts come from the topk_group chosen groups only.
    const int64_t candidates = c.topk_group * (c.n_routed_experts / c.n_group);
    if (grouped && c.num_experts_per_tok > candidates) {
      return r.Error("num_experts_per_tok",
                     fmt::format("{} exceeds the {} experts in topk_group {} of {} groups",
                                 c.num_experts_per_tok, candidates, c.topk_group, c.n_group));
    }
  }
  return Status::Ok();
}

Status ValidateMla(const JsonFields& r, const HfConfig& c) {
  if (c.q_lora_rank) DSI_RETURN_IF_ERROR(RequirePositive(r, "q_lora_rank", *c.q_lora_rank));
  DSI_RETURN_IF_ERROR(RequirePositive(r, "kv_lora_rank", c.kv_lora_rank));
  DSI_RETURN_IF_ERROR(RequirePositive(r, "qk_nope_head_dim", c.qk_nope_head_dim));
  DSI_RETURN_IF_ERROR(RequirePositive(r, "qk_rope_head_dim", c.qk_rope_head_dim));
  if (c.qk_rope_head_dim % 2 != 0) {
    return r.Error("qk_rope_head_dim", fmt::format("{} is odd", c.qk_rope_head_dim));
  }
  DSI_RETURN_IF_ERROR(RequirePositive(r, "v_head_dim", c.v_head_dim));
  if (c.num_nextn_predict_layers < 0) {
    return r.Error("num_nextn_predict_layers",
                   fmt::format("{} is negative", c.num_nextn_predict_layers));
  }
  return Status::Ok();
}

}  // namespace

std::string_view HfModelTypeName(HfModelType type) {
  switch (type) {
    case HfModelType::kLlama: return "llama";
    case HfModelType::kQwen2: return "qwen2";
    case HfModelType::kDeepseek: return "deepseek";
    case HfModelType::kDeepseekV2: return "deepseek_v2";
    case HfModelType::kDeepseekV3: return "deepseek_v3";
  }
  return "unknown";
}

StatusOr<HfConfig> ParseHfConfig(std::string_view json_text, std::string_view file_name) {
  DSI_ASSIGN_OR_RETURN(const Json root, ParseJsonObject(json_text, file_name));
  const JsonFields r(root, file_name);

  if (r.Find("model_type") == nullptr) return r.Error("model_type", "missing");
  std::string type_name;
  DSI_RETURN_IF_ERROR(r.String("model_type", &type_name));
  const std::optional<HfModelType> type = ModelTypeFromName(type_name);
  if (!type) {
    return UnimplementedError(fmt::format("{}: model_type '{}' is not supported (supported: {})",
                                          file_name, EscapeForMessage(type_name), kSupportedTypes));
  }

  HfConfig c = HfConfigDefaults(*type);
  DSI_RETURN_IF_ERROR(ReadCommon(r, &c));
  if (*type == HfModelType::kLlama) DSI_RETURN_IF_ERROR(ReadLlama(r, &c));
  if (*type == HfModelType::kQwen2) DSI_RETURN_IF_ERROR(ReadQwen2(r, &c));
  const bool moe_type = *type == HfModelType::kDeepseek || c.uses_mla();
  if (moe_type) DSI_RETURN_IF_ERROR(ReadMoe(r, &c));
  if (c.uses_mla()) DSI_RETURN_IF_ERROR(ReadMla(r, &c));
  DSI_RETURN_IF_ERROR(ReadRope(r, file_name, &c));
  DSI_RETURN_IF_ERROR(ReadQuantization(r, &c));

  DSI_RETURN_IF_ERROR(Derive(r, &c));
  DSI_RETURN_IF_ERROR(ValidateCommon(r, file_name, c));
  if (moe_type) DSI_RETURN_IF_ERROR(ValidateMoe(r, file_name, c));
  if (c.uses_mla()) DSI_RETURN_IF_ERROR(ValidateMla(r, c));
  return c;
}

StatusOr<HfConfig> LoadHfConfig(const std::string& path) {
  const std::string file =
      IsDirectory(path) ? path + (path.ends_with('/') ? "" : "/") + "config.json" : path;
  DSI_ASSIGN_OR_RETURN(const std::string text, ReadFileToString(file, kMaxConfigBytes));
  return ParseHfConfig(text, file);
}

}  // namespace dsinfer
