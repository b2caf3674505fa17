#include "model/gguf_metadata.h"

#include <cstdlib>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "formats/gguf_file.h"
#include "formats/gguf_names.h"

namespace dsinfer {

namespace {

// Optional yarn keys of llama.cpp (gguf-py Keys.Rope); its deepseek2 converter does not write
// them (the loader defaults to 32 / 1, as HF does), other converters may.
constexpr std::string_view kKeyYarnBetaFast = "rope.scaling.yarn_beta_fast";
constexpr std::string_view kKeyYarnBetaSlow = "rope.scaling.yarn_beta_slow";

// llama.cpp's expert_gating_func values.
constexpr uint32_t kGatingSoftmax = 1;
constexpr uint32_t kGatingSigmoid = 2;

// yarn_log_multiplier = 0.1 * mscale_all_dim (reference §3.6, gotcha G4).
constexpr double kYarnLogMultiplierPerMscale = 0.1;

class MetadataReader {
 public:
  MetadataReader(const GgufFile& file, std::string_view arch) : file_(file), arch_(arch) {}

  std::string Key(std::string_view suffix) const { return gguf::ArchKey(arch_, suffix); }

  StatusOr<int64_t> RequiredInt(std::string_view suffix) const {
    const std::optional<int64_t> v = OptionalInt(suffix);
    if (!v) return Missing(suffix, "an integer");
    return *v;
  }
  std::optional<int64_t> OptionalInt(std::string_view suffix) const {
    return file_.GetInt(Key(suffix));
  }
  int64_t IntOr(std::string_view suffix, int64_t fallback) const {
    return OptionalInt(suffix).value_or(fallback);
  }

  StatusOr<double> RequiredFloat(std::string_view suffix) const {
    const std::optional<double> v = OptionalFloat(suffix);
    if (!v) return Missing(suffix, "a number");
    return *v;
  }
  // FLOAT32 values read back as the shortest decimal that rounds to them, so the 1e-6 a
  // converter wrote reads as 1e-6 and not 9.99999997e-07.
  std::optional<double> OptionalFloat(std::string_view suffix) const {
    const GgufValue* v = file_.FindValue(Key(suffix));
    if (v == nullptr) return std::nullopt;
    if (v->type() == GgufType::kFloat32) return Shortest(std::get<float>(v->storage()));
    return v->AsDouble();
  }
  double FloatOr(std::string_view suffix, double fallback) const {
    return OptionalFloat(suffix).value_or(fallback);
  }

  static double Shortest(float f) { return std::strtod(fmt::format("{}", f).c_str(), nullptr); }

 private:
  Status Missing(std::string_view suffix, std::string_view what) const {
    const std::string key = Key(suffix);
    if (file_.FindValue(key) != nullptr) {
      return InvalidArgumentError(
          fmt::format("{}: GGUF key '{}' is not {}", file_.name(), key, what));
    }
    return InvalidArgumentError(fmt::format("{}: GGUF key '{}' is missing", file_.name(), key));
  }

  const GgufFile& file_;
  std::string_view arch_;
};

Status ReadRope(const MetadataReader& r, const GgufFile& file, ModelConfig* c) {
  c->rope.theta = r.FloatOr(gguf::kKeyRopeFreqBase, 10000.0);
  const std::optional<std::string_view> type = file.GetString(r.Key(gguf::kKeyRopeScalingType));
  if (file.FindTensor(gguf::kRopeFreqs) != nullptr) {
    // llama3 scaling: the divisors are in the tensor, the parameters are not in the file.
    c->rope.scaling = RopeScalingType::kLlama3;
    c->rope.factor = 0.0;
    return Status::Ok();
  }
  if (!type || *type == "none") {
    if (const std::optional<double> scale = r.OptionalFloat(gguf::kKeyRopeScaleLinear)) {
      c->rope.scaling = RopeScalingType::kLinear;  // files older than rope.scaling.*
      c->rope.factor = *scale;
    }
    return Status::Ok();
  }
  if (*type == "linear") {
    c->rope.scaling = RopeScalingType::kLinear;
    DSI_ASSIGN_OR_RETURN(c->rope.factor, r.RequiredFloat(gguf::kKeyRopeScalingFactor));
    return Status::Ok();
  }
  if (*type != "yarn") {
    return UnimplementedError(fmt::format("{}: {} '{}' is not run", file.name(),
                                          r.Key(gguf::kKeyRopeScalingType), *type));
  }
  c->rope.scaling = RopeScalingType::kYarn;
  DSI_ASSIGN_OR_RETURN(c->rope.factor, r.RequiredFloat(gguf::kKeyRopeScalingFactor));
  DSI_ASSIGN_OR_RETURN(c->rope.original_max_position_embeddings,
                       r.RequiredInt(gguf::kKeyRopeScalingOrigCtx));
  c->rope.beta_fast = r.FloatOr(kKeyYarnBetaFast, 32.0);
  c->rope.beta_slow = r.FloatOr(kKeyYarnBetaSlow, 1.0);
  const double log_mul = r.FloatOr(gguf::kKeyRopeScalingYarnLogMul, 0.0);
  c->rope.mscale_all_dim =
      MetadataReader::Shortest(static_cast<float>(log_mul / kYarnLogMultiplierPerMscale));
  c->rope.mscale = c->rope.mscale_all_dim;
  return Status::Ok();
}

Status ReadMla(const MetadataReader& r, const GgufFile& file, ModelConfig* c) {
  c->num_key_value_heads = c->num_attention_heads;  // GGUF's 1 is llama.cpp's MQA view
  c->head_dim = 0;
  c->q_lora_rank = r.IntOr(gguf::kKeyQLoraRank, 0);
  DSI_ASSIGN_OR_RETURN(c->kv_lora_rank, r.RequiredInt(gguf::kKeyKvLoraRank));
  DSI_ASSIGN_OR_RETURN(c->qk_rope_head_dim, r.RequiredInt(gguf::kKeyRopeDimensionCount));
  const bool split = MlaKvBFormOf(file) == MlaKvBForm::kSplit;
  DSI_ASSIGN_OR_RETURN(const int64_t qk_head_dim,
                       r.RequiredInt(split ? gguf::kKeyKeyLengthMla : gguf::kKeyKeyLength));
  DSI_ASSIGN_OR_RETURN(c->v_head_dim,
                       r.RequiredInt(split ? gguf::kKeyValueLengthMla : gguf::kKeyValueLength));
  c->qk_nope_head_dim = qk_head_dim - c->qk_rope_head_dim;
  return Status::Ok();
}

Status ReadMoe(const MetadataReader& r, const GgufFile& file, ModelConfig* c) {
  c->n_routed_experts = r.IntOr(gguf::kKeyExpertCount, 0);
  if (c->n_routed_experts == 0) return Status::Ok();
  DSI_ASSIGN_OR_RETURN(c->num_experts_per_tok, r.RequiredInt(gguf::kKeyExpertUsedCount));
  DSI_ASSIGN_OR_RETURN(c->moe_intermediate_size, r.RequiredInt(gguf::kKeyExpertFeedForwardLength));
  c->n_shared_experts = r.IntOr(gguf::kKeyExpertSharedCount, 0);
  c->first_k_dense_replace = r.IntOr(gguf::kKeyLeadingDenseBlockCount, 0);
  c->routed_scaling_factor = r.FloatOr(gguf::kKeyExpertWeightsScale, 1.0);
  c->norm_topk_prob = file.GetBool(r.Key(gguf::kKeyExpertWeightsNorm)).value_or(false);
  const int64_t gating = r.IntOr(gguf::kKeyExpertGatingFunc, kGatingSoftmax);
  if (gating != kGatingSoftmax && gating != kGatingSigmoid) {
    return UnimplementedError(fmt::format("{}: {} {} is not run", file.name(),
                                          r.Key(gguf::kKeyExpertGatingFunc), gating));
  }
  c->scoring_func = gating == kGatingSigmoid ? ExpertScoring::kSigmoid : ExpertScoring::kSoftmax;
  c->n_group = r.IntOr(gguf::kKeyExpertGroupCount, 0);
  c->topk_group = r.IntOr(gguf::kKeyExpertGroupUsedCount, 0);
  if (c->scoring_func == ExpertScoring::kSigmoid) {
    c->topk_method = TopkMethod::kNoauxTc;
    // Early V3/R1 files lack the group keys; llama.cpp then takes a plain top-k.
    if (c->n_group == 0) c->n_group = c->topk_group = 1;
  } else if (c->n_group > 1) {
    c->topk_method = TopkMethod::kGroupLimitedGreedy;
  }
  return Status::Ok();
}

std::optional<int64_t> TokenId(const GgufFile& file, std::string_view key) {
  return file.GetInt(key);
}

}  // namespace

StatusOr<ModelConfig> ModelConfig::FromGguf(const GgufFile& file) {
  const std::string_view arch_name = file.architecture();
  const std::optional<ModelArch> arch = ModelArchFromName(arch_name);
  if (!arch) {
    return UnimplementedError(
        fmt::format("{}: general.architecture '{}' is not one of llama, "
                    "qwen2, deepseek, deepseek2",
                    file.name(), arch_name));
  }
  const MetadataReader r(file, arch_name);
  ModelConfig c;
  c.arch = *arch;
  DSI_ASSIGN_OR_RETURN(c.hidden_size, r.RequiredInt(gguf::kKeyEmbeddingLength));
  DSI_ASSIGN_OR_RETURN(c.num_hidden_layers, r.RequiredInt(gguf::kKeyBlockCount));
  DSI_ASSIGN_OR_RETURN(c.num_attention_heads, r.RequiredInt(gguf::kKeyHeadCount));
  DSI_ASSIGN_OR_RETURN(c.max_position_embeddings, r.RequiredInt(gguf::kKeyContextLength));
  DSI_ASSIGN_OR_RETURN(c.rms_norm_eps, r.RequiredFloat(gguf::kKeyRmsEpsilon));
  c.intermediate_size = r.IntOr(gguf::kKeyFeedForwardLength, 0);
  c.num_key_value_heads = r.IntOr(gguf::kKeyHeadCountKv, c.num_attention_heads);
  const GgufTensorInfo* embd = file.FindTensor(gguf::kTokenEmbd);
  c.vocab_size = r.IntOr(gguf::kKeyVocabSize, embd != nullptr ? embd->ne[1] : 0);
  if (c.vocab_size == 0) {
    if (const GgufArray* tokens = file.GetArray(gguf::kKeyTokens)) {
      c.vocab_size = static_cast<int64_t>(tokens->items.size());
    }
  }
  DSI_RETURN_IF_ERROR(ReadRope(r, file, &c));
  if (c.uses_mla()) {
    DSI_RETURN_IF_ERROR(ReadMla(r, file, &c));
  } else if (c.num_attention_heads > 0) {
    c.head_dim = r.IntOr(gguf::kKeyKeyLength, c.hidden_size / c.num_attention_heads);
  }
  DSI_RETURN_IF_ERROR(ReadMoe(r, file, &c));
  c.qkv_bias = c.arch == ModelArch::kQwen2 ||
               file.FindTensor(gguf::LayerTensor(0, gguf::kAttnQ, "bias")) != nullptr;
  c.tie_word_embeddings = file.FindTensor(gguf::kOutput) == nullptr;
  c.num_nextn_predict_layers = r.IntOr(gguf::kKeyNextnPredictLayers, 0);
  c.bos_token_id = TokenId(file, gguf::kKeyBosTokenId);
  c.eos_token_id = TokenId(file, gguf::kKeyEosTokenId);
  if (Status s = c.Validate(); !s.ok()) {
    return InvalidArgumentError(fmt::format("{}: {}", file.name(), s.message()));
  }
  return c;
}

namespace {

class MetadataWriter {
 public:
  explicit MetadataWriter(std::string_view arch) : arch_(arch) {}

  void U32(std::string_view suffix, int64_t v) {
    Add(suffix, GgufValue::U32(static_cast<uint32_t>(v)));
  }
  void F32(std::string_view suffix, double v) {
    Add(suffix, GgufValue::F32(static_cast<float>(v)));
  }
  void Bool(std::string_view suffix, bool v) { Add(suffix, GgufValue::Bool(v)); }
  void String(std::string_view suffix, std::string v) {
    Add(suffix, GgufValue::String(std::move(v)));
  }
  void Global(std::string_view key, GgufValue v) {
    out.push_back(GgufKeyValue{std::string(key), std::move(v)});
  }

  std::vector<GgufKeyValue> out;

 private:
  void Add(std::string_view suffix, GgufValue v) {
    out.push_back(GgufKeyValue{gguf::ArchKey(arch_, suffix), std::move(v)});
  }
  std::string_view arch_;
};

void WriteRope(const ModelConfig& c, MetadataWriter& w) {
  w.F32(gguf::kKeyRopeFreqBase, c.rope.theta);
  switch (c.rope.scaling) {
    case RopeScalingType::kNone:
    case RopeScalingType::kLlama3:  // carried by rope_freqs.weight
      return;
    case RopeScalingType::kLinear:
      w.String(gguf::kKeyRopeScalingType, "linear");
      w.F32(gguf::kKeyRopeScalingFactor, c.rope.factor);
      return;
    case RopeScalingType::kYarn:
      w.String(gguf::kKeyRopeScalingType, "yarn");
      w.F32(gguf::kKeyRopeScalingFactor, c.rope.factor);
      w.U32(gguf::kKeyRopeScalingOrigCtx, c.rope.original_max_position_embeddings);
      w.F32(gguf::kKeyRopeScalingYarnLogMul, kYarnLogMultiplierPerMscale * c.rope.mscale_all_dim);
      if (c.rope.beta_fast != 32.0) w.F32(kKeyYarnBetaFast, c.rope.beta_fast);
      if (c.rope.beta_slow != 1.0) w.F32(kKeyYarnBetaSlow, c.rope.beta_slow);
      return;
  }
}

}  // namespace

StatusOr<std::vector<GgufKeyValue>> GgufMetadataFor(const ModelConfig& c,
                                                    const TensorLayoutOptions& options) {
  if (c.is_moe() && c.moe_layer_freq != 1) {
    return UnimplementedError(fmt::format(
        "GGUF cannot express moe_layer_freq {} (llama.cpp assumes 1)", c.moe_layer_freq));
  }
  if (c.arch == ModelArch::kDeepseek && c.is_moe() &&
      (c.scoring_func != ExpertScoring::kSoftmax || c.topk_method != TopkMethod::kGreedy ||
       c.norm_topk_prob)) {
    return UnimplementedError(
        "GGUF arch deepseek runs softmax-greedy routing only (use deepseek2)");
  }
  MetadataWriter w(ModelArchName(c.arch));
  w.U32(gguf::kKeyContextLength, c.max_position_embeddings);
  w.U32(gguf::kKeyEmbeddingLength, c.hidden_size);
  w.U32(gguf::kKeyBlockCount, c.num_hidden_layers);
  w.U32(gguf::kKeyFeedForwardLength, c.intermediate_size);
  w.U32(gguf::kKeyHeadCount, c.num_attention_heads);
  const bool split = options.kv_b_form == MlaKvBForm::kSplit;
  w.U32(gguf::kKeyHeadCountKv, c.uses_mla() && split ? 1 : c.num_key_value_heads);
  w.F32(gguf::kKeyRmsEpsilon, c.rms_norm_eps);
  w.U32(gguf::kKeyVocabSize, c.vocab_size);
  w.U32(gguf::kKeyRopeDimensionCount, c.uses_mla() ? c.qk_rope_head_dim : c.head_dim);
  WriteRope(c, w);
  if (c.uses_mla()) {
    // Written as 0 without q-LoRA too: llama.cpp treats a deepseek2 file as V2-Lite only by its
    // layer count (26 or 27) and otherwise requires the key, so a V2-Lite cut to fewer layers
    // would not load there; 0 makes it build attn_q, as the real V2-Lite does.
    w.U32(gguf::kKeyQLoraRank, c.q_lora_rank);
    w.U32(gguf::kKeyKvLoraRank, c.kv_lora_rank);
    if (split) {
      // llama.cpp's MQA view: K = [c_kv ; k_pe], V = c_kv.
      w.U32(gguf::kKeyKeyLength, c.kv_lora_rank + c.qk_rope_head_dim);
      w.U32(gguf::kKeyValueLength, c.kv_lora_rank);
      w.U32(gguf::kKeyKeyLengthMla, c.qk_head_dim());
      w.U32(gguf::kKeyValueLengthMla, c.v_head_dim);
    } else {
      w.U32(gguf::kKeyKeyLength, c.qk_head_dim());
      w.U32(gguf::kKeyValueLength, c.v_head_dim);
    }
  }
  if (c.is_moe()) {
    w.U32(gguf::kKeyLeadingDenseBlockCount, c.first_k_dense_replace);
    w.U32(gguf::kKeyExpertFeedForwardLength, c.moe_intermediate_size);
    w.U32(gguf::kKeyExpertCount, c.n_routed_experts);
    w.U32(gguf::kKeyExpertUsedCount, c.num_experts_per_tok);
    w.U32(gguf::kKeyExpertSharedCount, c.n_shared_experts);
    w.F32(gguf::kKeyExpertWeightsScale, c.routed_scaling_factor);
    if (c.arch == ModelArch::kDeepseek2) {
      if (c.norm_topk_prob) w.Bool(gguf::kKeyExpertWeightsNorm, true);
      w.U32(gguf::kKeyExpertGatingFunc,
            c.scoring_func == ExpertScoring::kSigmoid ? kGatingSigmoid : kGatingSoftmax);
      if (c.n_group > 0) {
        w.U32(gguf::kKeyExpertGroupCount, c.n_group);
        w.U32(gguf::kKeyExpertGroupUsedCount, c.topk_group);
      }
    }
  }
  if (c.bos_token_id)
    w.Global(gguf::kKeyBosTokenId, GgufValue::U32(static_cast<uint32_t>(*c.bos_token_id)));
  if (c.eos_token_id)
    w.Global(gguf::kKeyEosTokenId, GgufValue::U32(static_cast<uint32_t>(*c.eos_token_id)));
  return std::move(w.out);
}

}  // namespace dsinfer
