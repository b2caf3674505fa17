// TensorLayout against shared/reference/deepseek-models.md §2 and §6.3: names, ggml shapes,
// HF names and shapes of V3, V2-Lite, MoE-16B and the dense families; tensor counts of
// published files.
#include "model/tensor_layout.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "model/model_presets.h"
#include "model/tensor_storage_type.h"

namespace dsinfer {
namespace {

using Ne = std::vector<int64_t>;

std::map<std::string, TensorSpec> ByName(const std::vector<TensorSpec>& specs) {
  std::map<std::string, TensorSpec> m;
  for (const TensorSpec& s : specs) EXPECT_TRUE(m.emplace(s.gguf_name, s).second) << s.gguf_name;
  return m;
}

ModelConfig Preset(std::string_view name) { return *ModelPreset(name); }

int64_t TotalParameters(const std::vector<TensorSpec>& specs) {
  int64_t n = 0;
  for (const TensorSpec& s : specs) n += s.num_elements();
  return n;
}

TEST(TensorLayoutTest, DeepseekV3SplitMla) {
  const std::vector<TensorSpec> specs = BuildTensorLayout(Preset("v3"));
  const auto t = ByName(specs);
  // 3 globals; dense layers 13 tensors, MoE layers 18 (+attn_k_b/attn_v_b instead of attn_kv_b).
  EXPECT_EQ(specs.size(), 3u + 3 * 13 + 58 * 18);
  const std::pair<std::string, Ne> shapes[] = {
      {"token_embd.weight", {7168, 129280}},
      {"output.weight", {7168, 129280}},
      {"output_norm.weight", {7168}},
      {"blk.0.attn_q_a.weight", {7168, 1536}},
      {"blk.0.attn_q_a_norm.weight", {1536}},
      {"blk.0.attn_q_b.weight", {1536, 24576}},
      {"blk.0.attn_kv_a_mqa.weight", {7168, 576}},
      {"blk.0.attn_kv_a_norm.weight", {512}},
      {"blk.0.attn_k_b.weight", {128, 512, 128}},
      {"blk.0.attn_v_b.weight", {512, 128, 128}},
      {"blk.0.attn_output.weight", {16384, 7168}},
      {"blk.2.ffn_gate.weight", {7168, 18432}},
      {"blk.2.ffn_down.weight", {18432, 7168}},
      {"blk.3.ffn_gate_inp.weight", {7168, 256}},
      {"blk.3.exp_probs_b.bias", {256}},
      {"blk.3.ffn_gate_exps.weight", {7168, 2048, 256}},
      {"blk.3.ffn_up_exps.weight", {7168, 2048, 256}},
      {"blk.60.ffn_down_exps.weight", {2048, 7168, 256}},
      {"blk.60.ffn_gate_shexp.weight", {7168, 2048}},
      {"blk.60.ffn_down_shexp.weight", {2048, 7168}},
  };
  for (const auto& [name, ne] : shapes) {
    ASSERT_TRUE(t.contains(name)) << name;
    EXPECT_EQ(t.at(name).ne, ne) << name;
  }
  EXPECT_FALSE(t.contains("blk.2.ffn_gate_inp.weight"));
  EXPECT_FALSE(t.contains("blk.3.ffn_gate.weight"));
  EXPECT_FALSE(t.contains("blk.0.attn_q.weight"));
  EXPECT_FALSE(t.contains("blk.0.attn_kv_b.weight"));
  EXPECT_FALSE(t.contains("blk.61.attn_norm.weight"));  // the MTP layer is skipped

  // HF side (§2.4): kv_b_proj [32768, 512] feeds both halves; experts one tensor each.
  const TensorSpec& k_b = t.at("blk.0.attn_k_b.weight");
  EXPECT_EQ(k_b.hf_name, "model.layers.0.self_attn.kv_b_proj.weight");
  EXPECT_EQ(k_b.hf_shape, (Ne{32768, 512}));
  EXPECT_EQ(k_b.hf_source, HfSource::kSplitFromKvB);
  const TensorSpec& gate = t.at("blk.3.ffn_gate_exps.weight");
  EXPECT_EQ(gate.hf_name, "model.layers.3.mlp.experts.{e}.gate_proj.weight");
  EXPECT_EQ(gate.hf_shape, (Ne{2048, 7168}));
  EXPECT_EQ(t.at("blk.3.exp_probs_b.bias").hf_name,
            "model.layers.3.mlp.gate.e_score_correction_bias");
  EXPECT_EQ(t.at("blk.0.attn_q_b.weight").hf_shape, (Ne{24576, 1536}));
  EXPECT_EQ(t.at("blk.0.attn_kv_a_mqa.weight").hf_name,
            "model.layers.0.self_attn.kv_a_proj_with_mqa.weight");
  EXPECT_EQ(t.at("output.weight").hf_name, "lm_head.weight");

  // 671B without the 14B MTP module (DeepSeek-V3 report: 671B main + 14B MTP = 685B).
  EXPECT_NEAR(static_cast<double>(TotalParameters(specs)), 671.0e9, 0.5e9);
}

TEST(TensorLayoutTest, DeepseekV3LegacyFusedKvBMatchesPublishedFiles) {
  const std::vector<TensorSpec> specs = BuildTensorLayout(Preset("r1"), {MlaKvBForm::kFused});
  // The published pre-2025 R1/V3 GGUFs hold 1025 tensors.
  EXPECT_EQ(specs.size(), 1025u);
  const auto t = ByName(specs);
  EXPECT_EQ(t.at("blk.0.attn_kv_b.weight").ne, (Ne{512, 32768}));
  EXPECT_FALSE(t.contains("blk.0.attn_k_b.weight"));
}

TEST(TensorLayoutTest, DeepseekV2LiteHasPlainQAndSoftmaxRouter) {
  const std::vector<TensorSpec> specs = BuildTensorLayout(Preset("v2-lite"));
  const auto t = ByName(specs);
  EXPECT_EQ(t.at("blk.0.attn_q.weight").ne, (Ne{2048, 3072}));
  EXPECT_EQ(t.at("blk.0.attn_q.weight").hf_name, "model.layers.0.self_attn.q_proj.weight");
  EXPECT_FALSE(t.contains("blk.0.attn_q_a.weight"));
  EXPECT_EQ(t.at("blk.0.attn_kv_a_mqa.weight").ne, (Ne{2048, 576}));
  EXPECT_EQ(t.at("blk.0.attn_k_b.weight").ne, (Ne{128, 512, 16}));
  EXPECT_EQ(t.at("blk.0.attn_v_b.weight").ne, (Ne{512, 128, 16}));
  EXPECT_EQ(t.at("blk.0.attn_k_b.weight").hf_shape, (Ne{4096, 512}));
  EXPECT_EQ(t.at("blk.0.attn_output.weight").ne, (Ne{2048, 2048}));
  EXPECT_EQ(t.at("blk.0.ffn_gate.weight").ne, (Ne{2048, 10944}));
  EXPECT_EQ(t.at("blk.1.ffn_gate_exps.weight").ne, (Ne{2048, 1408, 64}));
  EXPECT_EQ(t.at("blk.1.ffn_down_exps.weight").ne, (Ne{1408, 2048, 64}));
  EXPECT_EQ(t.at("blk.1.ffn_up_shexp.weight").ne, (Ne{2048, 2816}));
  EXPECT_EQ(t.at("blk.1.ffn_up_shexp.weight").hf_shape, (Ne{2816, 2048}));
  EXPECT_FALSE(t.contains("blk.1.exp_probs_b.bias"));
  // 3 globals + a dense layer of 11 + 26 MoE layers of 15; the legacy form has one fewer per
  // layer: the 377 tensors of published V2-Lite GGUFs.
  EXPECT_EQ(specs.size(), 3u + 11 + 26 * 15);
  EXPECT_EQ(BuildTensorLayout(Preset("v2-lite"), {MlaKvBForm::kFused}).size(), 377u);
  EXPECT_NEAR(static_cast<double>(TotalParameters(specs)), 15.7e9, 0.1e9);
}

TEST(TensorLayoutTest, MoE16bAndDenseFamilies) {
  const auto moe = ByName(BuildTensorLayout(Preset("deepseek-moe-16b")));
  EXPECT_EQ(moe.at("blk.0.attn_k.weight").ne, (Ne{2048, 2048}));
  EXPECT_EQ(moe.at("blk.0.ffn_down.weight").ne, (Ne{10944, 2048}));
  EXPECT_EQ(moe.at("blk.1.ffn_gate_inp.weight").ne, (Ne{2048, 64}));
  EXPECT_EQ(moe.at("blk.27.ffn_down_shexp.weight").ne, (Ne{2816, 2048}));

  const auto qwen = ByName(BuildTensorLayout(Preset("r1-distill-qwen-1.5b")));
  EXPECT_EQ(qwen.at("blk.0.attn_k.weight").ne, (Ne{1536, 256}));
  EXPECT_EQ(qwen.at("blk.0.attn_q.bias").ne, (Ne{1536}));
  EXPECT_EQ(qwen.at("blk.0.attn_v.bias").ne, (Ne{256}));
  EXPECT_EQ(qwen.at("blk.0.attn_v.bias").hf_name, "model.layers.0.self_attn.v_proj.bias");
  EXPECT_FALSE(qwen.contains("blk.0.attn_output.bias"));
  EXPECT_EQ(qwen.size(), 3u + 28 * 12);

  const auto llama = ByName(BuildTensorLayout(Preset("r1-distill-llama-8b")));
  EXPECT_EQ(llama.at("rope_freqs.weight").ne, (Ne{64}));
  EXPECT_EQ(llama.at("rope_freqs.weight").hf_source, HfSource::kNone);
  EXPECT_EQ(llama.at("blk.31.attn_v.weight").ne, (Ne{4096, 1024}));
  EXPECT_FALSE(llama.contains("blk.0.attn_q.bias"));
  EXPECT_EQ(llama.size(), 4u + 32 * 9);

  ModelConfig tied = Preset("tiny-qwen2");
  tied.tie_word_embeddings = true;
  EXPECT_FALSE(ByName(BuildTensorLayout(tied)).contains("output.weight"));
}

TEST(TensorStorageTypeTest, FollowsLlamaCppFallbacks) {
  const auto v3 = ByName(BuildTensorLayout(Preset("v3")));
  const auto lite = ByName(BuildTensorLayout(Preset("v2-lite")));
  const auto tiny = ByName(BuildTensorLayout(Preset("tiny-deepseek2")));
  // Rows of 256k elements keep the K type; 128 (attn_k_b) and 1408 fall back (reference §7).
  EXPECT_EQ(StorageTypeFor(v3.at("blk.3.ffn_down_exps.weight"), DType::kQ4_K), DType::kQ4_K);
  EXPECT_EQ(StorageTypeFor(v3.at("blk.0.attn_k_b.weight"), DType::kQ4_K), DType::kQ5_0);
  EXPECT_EQ(StorageTypeFor(v3.at("blk.0.attn_k_b.weight"), DType::kQ6_K), DType::kQ8_0);
  EXPECT_EQ(StorageTypeFor(lite.at("blk.1.ffn_down_exps.weight"), DType::kQ4_K), DType::kQ5_0);
  EXPECT_EQ(StorageTypeFor(lite.at("blk.1.ffn_down_exps.weight"), DType::kQ6_K), DType::kQ8_0);
  EXPECT_EQ(StorageTypeFor(lite.at("blk.1.ffn_down_exps.weight"), DType::kBF16), DType::kBF16);
  // Rows of 16: not even a 32-block fits, so F16.
  EXPECT_EQ(StorageTypeFor(tiny.at("blk.0.attn_k_b.weight"), DType::kQ4_K), DType::kF16);
  EXPECT_EQ(StorageTypeFor(tiny.at("blk.0.attn_k_b.weight"), DType::kQ4_0), DType::kF16);
  // 1-D tensors and the router stay F32.
  for (const char* name : {"blk.3.attn_norm.weight", "blk.3.exp_probs_b.bias",
                           "blk.3.ffn_gate_inp.weight", "blk.0.attn_kv_a_norm.weight"}) {
    EXPECT_EQ(StorageTypeFor(v3.at(name), DType::kQ8_0), DType::kF32) << name;
  }
  EXPECT_EQ(StorageTypeFor(v3.at("token_embd.weight"), DType::kQ8_0), DType::kQ8_0);
}

TEST(TensorLayoutTest, NamesAreUniqueAndFitGgmlForEveryPreset) {
  for (std::string_view name : ModelPresetNames()) {
    for (MlaKvBForm form : {MlaKvBForm::kSplit, MlaKvBForm::kFused}) {
      std::set<std::string> seen;
      for (const TensorSpec& s : BuildTensorLayout(Preset(name), {form})) {
        EXPECT_TRUE(seen.insert(s.gguf_name).second) << name << " " << s.gguf_name;
        EXPECT_LT(s.gguf_name.size(), 64u) << s.gguf_name;  // GGML_MAX_NAME
        EXPECT_LE(s.ne.size(), 4u);
        for (int64_t d : s.ne) EXPECT_GT(d, 0) << name << " " << s.gguf_name;
      }
    }
  }
}

}  // namespace
}  // namespace dsinfer
