#include "model/tensor_layout.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "formats/gguf_file.h"
#include "formats/gguf_names.h"

namespace dsinfer {

MlaKvBForm MlaKvBFormOf(const GgufFile& file) {
  const std::string key = gguf::ArchKey(file.architecture(), gguf::kKeyKeyLengthMla);
  return file.FindValue(key) != nullptr ? MlaKvBForm::kSplit : MlaKvBForm::kFused;
}

int64_t TensorSpec::num_elements() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  return n;
}

int64_t TensorSpec::rows() const { return ne.empty() ? 0 : num_elements() / ne[0]; }

namespace {

// Collects specs; the HF shape of a direct tensor is its GGUF shape reversed.
class LayoutBuilder {
 public:
  explicit LayoutBuilder(std::vector<TensorSpec>* out) : out_(out) {}

  void Global(std::string_view gguf_name, std::vector<int64_t> ne, std::string_view hf_name,
              TensorRole role) {
    Add(-1, std::string(gguf_name), std::move(ne), std::string(hf_name), role, HfSource::kDirect,
        {});
  }

  // A per-layer tensor: "blk.{layer}.{base}.{suffix}" from "model.layers.{layer}.{hf_leaf}".
  void Layer(int64_t layer, std::string_view base, std::vector<int64_t> ne,
             std::string_view hf_leaf, TensorRole role = TensorRole::kWeight,
             std::string_view suffix = "weight", HfSource source = HfSource::kDirect,
             std::vector<int64_t> hf_shape = {}) {
    Add(layer, gguf::LayerTensor(layer, base, suffix), std::move(ne),
        fmt::format("model.layers.{}.{}", layer, hf_leaf), role, source, std::move(hf_shape));
  }

 private:
  void Add(int64_t layer, std::string gguf_name, std::vector<int64_t> ne, std::string hf_name,
           TensorRole role, HfSource source, std::vector<int64_t> hf_shape) {
    if (hf_shape.empty()) hf_shape.assign(ne.rbegin(), ne.rend());
    out_->push_back(TensorSpec{.gguf_name = std::move(gguf_name),
                               .ne = std::move(ne),
                               .hf_name = std::move(hf_name),
                               .hf_shape = std::move(hf_shape),
                               .hf_source = source,
                               .role = role,
                               .layer = layer});
  }

  std::vector<TensorSpec>* out_;
};

void AddStandardAttention(const ModelConfig& c, int64_t i, LayoutBuilder& b) {
  const int64_t d = c.hidden_size;
  const int64_t q_width = c.num_attention_heads * c.head_dim;
  const int64_t kv_width = c.num_key_value_heads * c.head_dim;
  b.Layer(i, gguf::kAttnQ, {d, q_width}, "self_attn.q_proj.weight");
  b.Layer(i, gguf::kAttnK, {d, kv_width}, "self_attn.k_proj.weight");
  b.Layer(i, gguf::kAttnV, {d, kv_width}, "self_attn.v_proj.weight");
  if (c.qkv_bias) {
    b.Layer(i, gguf::kAttnQ, {q_width}, "self_attn.q_proj.bias", TensorRole::kBias, "bias");
    b.Layer(i, gguf::kAttnK, {kv_width}, "self_attn.k_proj.bias", TensorRole::kBias, "bias");
    b.Layer(i, gguf::kAttnV, {kv_width}, "self_attn.v_proj.bias", TensorRole::kBias, "bias");
  }
  b.Layer(i, gguf::kAttnOutput, {q_width, d}, "self_attn.o_proj.weight");
}

// Reference §2.4 and §6.3: x -> [q_a -> q_a_norm -> q_b | q], kv_a_mqa -> kv_a_norm -> kv_b.
void AddMlaAttention(const ModelConfig& c, const TensorLayoutOptions& options, int64_t i,
                     LayoutBuilder& b) {
  const int64_t d = c.hidden_size;
  const int64_t h = c.num_attention_heads;
  const int64_t q_width = h * c.qk_head_dim();
  if (c.q_lora_rank > 0) {
    b.Layer(i, gguf::kAttnQA, {d, c.q_lora_rank}, "self_attn.q_a_proj.weight");
    b.Layer(i, gguf::kAttnQANorm, {c.q_lora_rank}, "self_attn.q_a_layernorm.weight",
            TensorRole::kNorm);
    b.Layer(i, gguf::kAttnQB, {c.q_lora_rank, q_width}, "self_attn.q_b_proj.weight");
  } else {
    b.Layer(i, gguf::kAttnQ, {d, q_width}, "self_attn.q_proj.weight");
  }
  b.Layer(i, gguf::kAttnKvAMqa, {d, c.kv_lora_rank + c.qk_rope_head_dim},
          "self_attn.kv_a_proj_with_mqa.weight");
  b.Layer(i, gguf::kAttnKvANorm, {c.kv_lora_rank}, "self_attn.kv_a_layernorm.weight",
          TensorRole::kNorm);
  const std::vector<int64_t> kv_b_hf = {h * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank};
  if (options.kv_b_form == MlaKvBForm::kSplit) {
    b.Layer(i, gguf::kAttnKB, {c.qk_nope_head_dim, c.kv_lora_rank, h}, "self_attn.kv_b_proj.weight",
            TensorRole::kWeight, "weight", HfSource::kSplitFromKvB, kv_b_hf);
    b.Layer(i, gguf::kAttnVB, {c.kv_lora_rank, c.v_head_dim, h}, "self_attn.kv_b_proj.weight",
            TensorRole::kWeight, "weight", HfSource::kSplitFromKvB, kv_b_hf);
  } else {
    b.Layer(i, gguf::kAttnKvB, {c.kv_lora_rank, kv_b_hf[0]}, "self_attn.kv_b_proj.weight");
  }
  b.Layer(i, gguf::kAttnOutput, {h * c.v_head_dim, d}, "self_attn.o_proj.weight");
}

void AddFeedForward(const ModelConfig& c, int64_t i, LayoutBuilder& b) {
  const int64_t d = c.hidden_size;
  if (!c.IsMoeLayer(i)) {
    const int64_t f = c.intermediate_size;
    b.Layer(i, gguf::kFfnGate, {d, f}, "mlp.gate_proj.weight");
    b.Layer(i, gguf::kFfnUp, {d, f}, "mlp.up_proj.weight");
    b.Layer(i, gguf::kFfnDown, {f, d}, "mlp.down_proj.weight");
    return;
  }
  const int64_t e = c.n_routed_experts;
  const int64_t fe = c.moe_intermediate_size;
  b.Layer(i, gguf::kFfnGateInp, {d, e}, "mlp.gate.weight", TensorRole::kRouter);
  if (c.has_expert_bias()) {
    b.Layer(i, gguf::kExpProbsB, {e}, "mlp.gate.e_score_correction_bias", TensorRole::kExpertBias,
            "bias");
  }
  b.Layer(i, gguf::kFfnGateExps, {d, fe, e}, "mlp.experts.{e}.gate_proj.weight",
          TensorRole::kWeight, "weight", HfSource::kStackedExperts, {fe, d});
  b.Layer(i, gguf::kFfnUpExps, {d, fe, e}, "mlp.experts.{e}.up_proj.weight", TensorRole::kWeight,
          "weight", HfSource::kStackedExperts, {fe, d});
  b.Layer(i, gguf::kFfnDownExps, {fe, d, e}, "mlp.experts.{e}.down_proj.weight",
          TensorRole::kWeight, "weight", HfSource::kStackedExperts, {d, fe});
  if (c.n_shared_experts > 0) {
    const int64_t fs = c.n_shared_experts * fe;
    b.Layer(i, gguf::kFfnGateShexp, {d, fs}, "mlp.shared_experts.gate_proj.weight");
    b.Layer(i, gguf::kFfnUpShexp, {d, fs}, "mlp.shared_experts.up_proj.weight");
    b.Layer(i, gguf::kFfnDownShexp, {fs, d}, "mlp.shared_experts.down_proj.weight");
  }
}

}  // namespace

std::vector<TensorSpec> BuildTensorLayout(const ModelConfig& config,
                                          const TensorLayoutOptions& options) {
  std::vector<TensorSpec> specs;
  LayoutBuilder b(&specs);
  const int64_t d = config.hidden_size;
  b.Global(gguf::kTokenEmbd, {d, config.vocab_size}, "model.embed_tokens.weight",
           TensorRole::kEmbedding);
  if (config.rope.scaling == RopeScalingType::kLlama3) {
    specs.push_back(TensorSpec{.gguf_name = std::string(gguf::kRopeFreqs),
                               .ne = {config.head_dim / 2},
                               .hf_name = "",
                               .hf_shape = {},
                               .hf_source = HfSource::kNone,
                               .role = TensorRole::kRopeFreqs,
                               .layer = -1});
  }
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    b.Layer(i, gguf::kAttnNorm, {d}, "input_layernorm.weight", TensorRole::kNorm);
    if (config.uses_mla()) {
      AddMlaAttention(config, options, i, b);
    } else {
      AddStandardAttention(config, i, b);
    }
    b.Layer(i, gguf::kFfnNorm, {d}, "post_attention_layernorm.weight", TensorRole::kNorm);
    AddFeedForward(config, i, b);
  }
  b.Global(gguf::kOutputNorm, {d}, "model.norm.weight", TensorRole::kNorm);
  if (!config.tie_word_embeddings) {
    b.Global(gguf::kOutput, {d, config.vocab_size}, "lm_head.weight", TensorRole::kOutput);
  }
  return specs;
}

}  // namespace dsinfer
