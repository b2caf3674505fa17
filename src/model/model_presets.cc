#include "model/model_presets.h"

#include <algorithm>
#include <string>

#include <fmt/format.h>

namespace dsinfer {

namespace {

struct Dense {
  ModelArch arch;
  int64_t vocab, hidden, intermediate, layers, heads, kv_heads, max_pos;
  double theta, eps;
  int64_t bos, eos;
};

ModelConfig DenseConfig(const Dense& d) {
  ModelConfig c;
  c.arch = d.arch;
  c.vocab_size = d.vocab;
  c.hidden_size = d.hidden;
  c.intermediate_size = d.intermediate;
  c.num_hidden_layers = d.layers;
  c.num_attention_heads = d.heads;
  c.num_key_value_heads = d.kv_heads;
  c.head_dim = d.hidden / d.heads;
  c.max_position_embeddings = d.max_pos;
  c.rope.theta = d.theta;
  c.rms_norm_eps = d.eps;
  c.qkv_bias = d.arch == ModelArch::kQwen2;
  c.bos_token_id = d.bos;
  c.eos_token_id = d.eos;
  return c;
}

struct Moe {
  int64_t experts, shared, per_tok, moe_intermediate, first_dense, n_group, topk_group;
  ExpertScoring scoring;
  TopkMethod method;
  bool norm;
  double scale;
};

void SetMoe(const Moe& m, ModelConfig* c) {
  c->n_routed_experts = m.experts;
  c->n_shared_experts = m.shared;
  c->num_experts_per_tok = m.per_tok;
  c->moe_intermediate_size = m.moe_intermediate;
  c->first_k_dense_replace = m.first_dense;
  c->moe_layer_freq = 1;
  c->n_group = m.n_group;
  c->topk_group = m.topk_group;
  c->scoring_func = m.scoring;
  c->topk_method = m.method;
  c->norm_topk_prob = m.norm;
  c->routed_scaling_factor = m.scale;
}

// MLA dims and YaRN of the V2/V3 family; `mscale` is both mscale and mscale_all_dim.
void SetMla(int64_t q_lora_rank, int64_t kv_lora_rank, int64_t nope, int64_t rope, int64_t v,
            double mscale, int64_t original_ctx, ModelConfig* c) {
  c->head_dim = 0;
  c->num_key_value_heads = c->num_attention_heads;
  c->q_lora_rank = q_lora_rank;
  c->kv_lora_rank = kv_lora_rank;
  c->qk_nope_head_dim = nope;
  c->qk_rope_head_dim = rope;
  c->v_head_dim = v;
  c->rope.scaling = RopeScalingType::kYarn;
  c->rope.factor = 40.0;
  c->rope.original_max_position_embeddings = original_ctx;
  c->rope.beta_fast = 32.0;
  c->rope.beta_slow = 1.0;
  c->rope.mscale = mscale;
  c->rope.mscale_all_dim = mscale;
}

constexpr auto kLlama = ModelArch::kLlama;
constexpr auto kQwen2 = ModelArch::kQwen2;
constexpr auto kDeepseek = ModelArch::kDeepseek;
constexpr auto kDeepseek2 = ModelArch::kDeepseek2;
constexpr auto kSoftmax = ExpertScoring::kSoftmax;
constexpr auto kSigmoid = ExpertScoring::kSigmoid;
constexpr auto kGreedy = TopkMethod::kGreedy;
constexpr auto kGroupLimited = TopkMethod::kGroupLimitedGreedy;
constexpr auto kNoauxTc = TopkMethod::kNoauxTc;

ModelConfig DeepseekV2(bool lite) {
  ModelConfig c = lite ? DenseConfig({kDeepseek2, 102400, 2048, 10944, 27, 16, 16, 163840, 10000,
                                      1e-6, 100000, 100001})
                       : DenseConfig({kDeepseek2, 102400, 5120, 12288, 60, 128, 128, 163840, 10000,
                                      1e-6, 100000, 100001});
  if (lite) {
    SetMoe({64, 2, 6, 1408, 1, 1, 1, kSoftmax, kGreedy, false, 1.0}, &c);
  } else {
    SetMoe({160, 2, 6, 1536, 1, 8, 3, kSoftmax, kGroupLimited, false, 16.0}, &c);
  }
  SetMla(lite ? 0 : 1536, 512, 128, 64, 128, 0.707, 4096, &c);
  return c;
}

ModelConfig DeepseekV3() {
  ModelConfig c =
      DenseConfig({kDeepseek2, 129280, 7168, 18432, 61, 128, 128, 163840, 10000, 1e-6, 0, 1});
  SetMoe({256, 1, 8, 2048, 3, 8, 4, kSigmoid, kNoauxTc, true, 2.5}, &c);
  SetMla(1536, 512, 128, 64, 128, 1.0, 4096, &c);
  c.num_nextn_predict_layers = 1;
  return c;
}

// Tiny shapes: every matrix row a multiple of 32 where the real model's is, so block types
// apply; ne0 of 16 (attn_k_b) exercises the fallback as dn = 128 does for K-quants.
ModelConfig Tiny(ModelArch arch) {
  ModelConfig c = DenseConfig({arch, 512, 64, 128, 2, 4, 4, 512, 10000, 1e-6, 1, 2});
  switch (arch) {
    case ModelArch::kLlama:
      c.num_key_value_heads = 2;
      c.rms_norm_eps = 1e-5;
      break;
    case ModelArch::kQwen2: c.num_key_value_heads = 2; break;
    case ModelArch::kDeepseek:
      c.num_hidden_layers = 3;
      SetMoe({8, 2, 2, 32, 1, 0, 0, kSoftmax, kGreedy, false, 1.0}, &c);
      break;
    case ModelArch::kDeepseek2:
      c.num_hidden_layers = 3;
      c.max_position_embeddings = 2560;
      SetMoe({8, 1, 2, 32, 1, 4, 2, kSigmoid, kNoauxTc, true, 2.5}, &c);
      SetMla(64, 32, 16, 8, 16, 1.0, 64, &c);
      c.num_nextn_predict_layers = 1;
      break;
  }
  return c;
}

ModelConfig TinyV2Lite() {
  ModelConfig c = Tiny(kDeepseek2);
  SetMoe({8, 2, 2, 32, 1, 1, 1, kSoftmax, kGreedy, false, 1.0}, &c);
  SetMla(0, 32, 16, 8, 16, 0.707, 64, &c);
  c.num_nextn_predict_layers = 0;
  return c;
}

ModelConfig TinyV2() {
  ModelConfig c = Tiny(kDeepseek2);
  SetMoe({8, 2, 2, 32, 1, 4, 2, kSoftmax, kGroupLimited, false, 16.0}, &c);
  SetMla(64, 32, 16, 8, 16, 0.707, 64, &c);
  c.num_nextn_predict_layers = 0;
  return c;
}

// R1 / V3's structure (q-LoRA MLA, sigmoid + bias group top-k, a first dense layer, a shared
// expert, an MTP layer) with every row that is a multiple of 256 in R1 one here too, so that
// the 256-element types (K-quants, the lattice IQ types) hold the experts as in R1's low-bit files;
// attn_k_b's rows (the nope dim) stay short and fall back, as R1's do.
ModelConfig TinyR1() {
  ModelConfig c = DenseConfig({kDeepseek2, 512, 256, 512, 3, 2, 2, 2560, 10000, 1e-6, 1, 2});
  SetMoe({8, 1, 2, 256, 1, 4, 2, kSigmoid, kNoauxTc, true, 2.5}, &c);
  SetMla(256, 256, 64, 32, 128, 1.0, 64, &c);
  c.num_nextn_predict_layers = 1;
  return c;
}

struct Preset {
  std::string_view name;
  ModelConfig (*make)();
};

constexpr Preset kPresets[] = {
    {"deepseek-llm-7b",
     [] {
       return DenseConfig(
           {kLlama, 102400, 4096, 11008, 30, 32, 32, 4096, 10000, 1e-6, 100000, 100001});
     }},
    {"deepseek-coder-6.7b",
     [] {
       ModelConfig c =
           DenseConfig({kLlama, 32256, 4096, 11008, 32, 32, 32, 16384, 100000, 1e-6, 32013, 32014});
       c.rope.scaling = RopeScalingType::kLinear;
       c.rope.factor = 4.0;
       return c;
     }},
    {"r1-distill-llama-8b",
     [] {
       ModelConfig c = DenseConfig(
           {kLlama, 128256, 4096, 14336, 32, 32, 8, 131072, 500000, 1e-5, 128000, 128001});
       c.rope.scaling = RopeScalingType::kLlama3;
       c.rope.factor = 8.0;
       c.rope.low_freq_factor = 1.0;
       c.rope.high_freq_factor = 4.0;
       c.rope.original_max_position_embeddings = 8192;
       return c;
     }},
    {"r1-distill-qwen-1.5b",
     [] {
       return DenseConfig(
           {kQwen2, 151936, 1536, 8960, 28, 12, 2, 131072, 10000, 1e-6, 151643, 151643});
     }},
    {"r1-distill-qwen-7b",
     [] {
       return DenseConfig(
           {kQwen2, 152064, 3584, 18944, 28, 28, 4, 131072, 10000, 1e-6, 151643, 151643});
     }},
    {"deepseek-moe-16b",
     [] {
       ModelConfig c = DenseConfig(
           {kDeepseek, 102400, 2048, 10944, 28, 16, 16, 4096, 10000, 1e-6, 100000, 100001});
       SetMoe({64, 2, 6, 1408, 1, 0, 0, kSoftmax, kGreedy, false, 1.0}, &c);
       return c;
     }},
    {"v2-lite", [] { return DeepseekV2(/*lite=*/true); }},
    {"v2", [] { return DeepseekV2(/*lite=*/false); }},
    {"v3", DeepseekV3},
    {"r1", DeepseekV3},
    {"tiny-llama", [] { return Tiny(kLlama); }},
    {"tiny-qwen2", [] { return Tiny(kQwen2); }},
    {"tiny-deepseek", [] { return Tiny(kDeepseek); }},
    {"tiny-deepseek2", [] { return Tiny(kDeepseek2); }},
    {"tiny-v2-lite", TinyV2Lite},
    {"tiny-v2", TinyV2},
    {"tiny-r1", TinyR1},
    // Coder v1's linear RoPE (theta 1e5, factor 4) on the tiny llama shape.
    {"tiny-llama-linear",
     [] {
       ModelConfig c = Tiny(kLlama);
       c.rope.theta = 100000;
       c.rope.scaling = RopeScalingType::kLinear;
       c.rope.factor = 4.0;
       return c;
     }},
    // R1-Distill-Llama's llama3 RoPE (rope_freqs.weight) with head_dim 64, so that its 32
    // frequencies fall in all three bands; every row is a multiple of 256 for K-quants.
    {"tiny-llama3",
     [] {
       ModelConfig c = DenseConfig({kLlama, 512, 256, 512, 2, 4, 2, 512, 500000, 1e-5, 1, 2});
       c.rope.scaling = RopeScalingType::kLlama3;
       c.rope.factor = 8.0;
       c.rope.low_freq_factor = 1.0;
       c.rope.high_freq_factor = 4.0;
       c.rope.original_max_position_embeddings = 8192;
       return c;
     }},
};

}  // namespace

StatusOr<ModelConfig> ModelPreset(std::string_view name) {
  for (const Preset& p : kPresets) {
    if (p.name == name) return p.make();
  }
  std::string known;
  for (const Preset& p : kPresets) known += fmt::format("{}{}", known.empty() ? "" : ", ", p.name);
  return NotFoundError(fmt::format("unknown model preset '{}' (known: {})", name, known));
}

std::vector<std::string_view> ModelPresetNames() {
  std::vector<std::string_view> names;
  for (const Preset& p : kPresets) names.push_back(p.name);
  return names;
}

std::string_view DefaultPresetFor(ModelArch arch) {
  switch (arch) {
    case ModelArch::kLlama: return "tiny-llama";
    case ModelArch::kQwen2: return "tiny-qwen2";
    case ModelArch::kDeepseek: return "tiny-deepseek";
    case ModelArch::kDeepseek2: return "tiny-deepseek2";
  }
  return "tiny-llama";
}

StatusOr<ModelConfig> WithLayers(const ModelConfig& config, int64_t layers) {
  if (layers < 1 || layers > config.num_hidden_layers) {
    return InvalidArgumentError(
        fmt::format("--layers {} must be in [1, {}]", layers, config.num_hidden_layers));
  }
  ModelConfig c = config;
  c.num_hidden_layers = layers;
  if (c.is_moe()) c.first_k_dense_replace = std::min(c.first_k_dense_replace, layers - 1);
  return c;
}

}  // namespace dsinfer
