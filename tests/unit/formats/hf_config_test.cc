#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "formats/generation_config.h"
#include "formats/hf_config.h"
#include "hf_config_test_util.h"

namespace dsinfer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

HfConfig LoadFixture(const std::string& name) {
  auto config = LoadHfConfig(HfDir() + "/" + name);
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return config.ok() ? config.value() : HfConfig{};
}

// --- the real configs (values from shared/reference/deepseek-models.md §1) ---

TEST(HfConfigTest, DeepseekV2Lite) {
  const HfConfig c = LoadFixture("deepseek_v2_lite");
  EXPECT_EQ(c.model_type, HfModelType::kDeepseekV2);
  EXPECT_THAT(c.architectures, ElementsAre("DeepseekV2ForCausalLM"));
  EXPECT_EQ(c.torch_dtype, "bfloat16");
  EXPECT_EQ(c.hidden_size, 2048);
  EXPECT_EQ(c.intermediate_size, 10944);
  EXPECT_EQ(c.moe_intermediate_size, 1408);
  EXPECT_EQ(c.num_hidden_layers, 27);
  EXPECT_EQ(c.num_attention_heads, 16);
  EXPECT_EQ(c.num_key_value_heads, 16);
  EXPECT_EQ(c.vocab_size, 102400);
  EXPECT_EQ(c.max_position_embeddings, 163840);
  EXPECT_EQ(c.rope_theta, 10000.0);
  ASSERT_TRUE(c.rope_scaling.has_value());
  EXPECT_EQ(c.rope_scaling->type, "yarn");
  EXPECT_EQ(c.rope_scaling->factor, 40.0);
  EXPECT_EQ(c.rope_scaling->original_max_position_embeddings, 4096);
  EXPECT_EQ(c.rope_scaling->beta_fast, 32.0);
  EXPECT_EQ(c.rope_scaling->beta_slow, 1.0);
  EXPECT_EQ(c.rope_scaling->mscale, 0.707);
  EXPECT_EQ(c.rope_scaling->mscale_all_dim, 0.707);
  EXPECT_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_EQ(c.n_routed_experts, 64);
  EXPECT_EQ(c.n_shared_experts, 2);
  EXPECT_EQ(c.num_experts_per_tok, 6);
  EXPECT_EQ(c.first_k_dense_replace, 1);
  EXPECT_EQ(c.moe_layer_freq, 1);
  EXPECT_EQ(c.n_group, 1);
  EXPECT_EQ(c.topk_group, 1);
  EXPECT_EQ(c.topk_method, "greedy");
  EXPECT_EQ(c.scoring_func, "softmax");
  EXPECT_EQ(c.routed_scaling_factor, 1.0);
  EXPECT_FALSE(c.norm_topk_prob);
  EXPECT_FALSE(c.q_lora_rank.has_value());  // null: a plain q_proj
  EXPECT_EQ(c.kv_lora_rank, 512);
  EXPECT_EQ(c.qk_nope_head_dim, 128);
  EXPECT_EQ(c.qk_rope_head_dim, 64);
  EXPECT_EQ(c.qk_head_dim(), 192);
  EXPECT_EQ(c.v_head_dim, 128);
  EXPECT_EQ(c.head_dim, 64);  // transformers' DeepseekV2Config: qk_rope_head_dim
  EXPECT_FALSE(c.attention_bias);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.bos_token_id, 100000);
  EXPECT_THAT(c.eos_token_ids, ElementsAre(100001));
  EXPECT_EQ(c.num_nextn_predict_layers, 0);
  EXPECT_FALSE(c.quantization_config.has_value());
  EXPECT_TRUE(c.uses_mla());
  EXPECT_FALSE(c.IsMoeLayer(0));
  EXPECT_TRUE(c.IsMoeLayer(1));
  EXPECT_TRUE(c.IsMoeLayer(26));
}

TEST(HfConfigTest, DeepseekV3WithFp8Quantization) {
  const HfConfig c = LoadFixture("deepseek_v3");
  EXPECT_EQ(c.model_type, HfModelType::kDeepseekV3);
  EXPECT_EQ(HfModelTypeName(c.model_type), "deepseek_v3");
  EXPECT_EQ(c.hidden_size, 7168);
  EXPECT_EQ(c.intermediate_size, 18432);
  EXPECT_EQ(c.moe_intermediate_size, 2048);
  EXPECT_EQ(c.num_hidden_layers, 61);
  EXPECT_EQ(c.num_attention_heads, 128);
  EXPECT_EQ(c.num_key_value_heads, 128);
  EXPECT_EQ(c.vocab_size, 129280);
  EXPECT_EQ(c.max_position_embeddings, 163840);
  ASSERT_TRUE(c.rope_scaling.has_value());
  EXPECT_EQ(c.rope_scaling->type, "yarn");
  EXPECT_EQ(c.rope_scaling->factor, 40.0);
  EXPECT_EQ(c.rope_scaling->mscale, 1.0);
  EXPECT_EQ(c.rope_scaling->mscale_all_dim, 1.0);
  EXPECT_EQ(c.n_routed_experts, 256);
  EXPECT_EQ(c.n_shared_experts, 1);
  EXPECT_EQ(c.num_experts_per_tok, 8);
  EXPECT_EQ(c.first_k_dense_replace, 3);
  EXPECT_EQ(c.n_group, 8);
  EXPECT_EQ(c.topk_group, 4);
  EXPECT_EQ(c.topk_method, "noaux_tc");
  EXPECT_EQ(c.scoring_func, "sigmoid");
  EXPECT_EQ(c.routed_scaling_factor, 2.5);
  EXPECT_TRUE(c.norm_topk_prob);
  EXPECT_EQ(c.q_lora_rank, 1536);
  EXPECT_EQ(c.kv_lora_rank, 512);
  EXPECT_EQ(c.num_nextn_predict_layers, 1);
  EXPECT_EQ(c.bos_token_id, 0);
  EXPECT_THAT(c.eos_token_ids, ElementsAre(1));
  ASSERT_TRUE(c.quantization_config.has_value());
  EXPECT_EQ(c.quantization_config->quant_method, "fp8");
  EXPECT_EQ(c.quantization_config->fmt, "e4m3");
  EXPECT_EQ(c.quantization_config->activation_scheme, "dynamic");
  EXPECT_THAT(c.quantization_config->weight_block_size, ElementsAre(128, 128));
  EXPECT_EQ(c.quantization_config->scale_fmt, "");
  EXPECT_FALSE(c.IsMoeLayer(2));
  EXPECT_TRUE(c.IsMoeLayer(3));
}

TEST(HfConfigTest, DeepseekMoe16b) {
  const HfConfig c = LoadFixture("deepseek_moe_16b");
  EXPECT_EQ(c.model_type, HfModelType::kDeepseek);
  EXPECT_EQ(c.hidden_size, 2048);
  EXPECT_EQ(c.intermediate_size, 10944);
  EXPECT_EQ(c.moe_intermediate_size, 1408);
  EXPECT_EQ(c.num_hidden_layers, 28);
  EXPECT_EQ(c.num_attention_heads, 16);
  EXPECT_EQ(c.num_key_value_heads, 16);
  EXPECT_EQ(c.head_dim, 128);  // full-head RoPE, 2048 / 16
  EXPECT_EQ(c.max_position_embeddings, 4096);
  EXPECT_FALSE(c.rope_scaling.has_value());
  EXPECT_EQ(c.n_routed_experts, 64);
  EXPECT_EQ(c.n_shared_experts, 2);
  EXPECT_EQ(c.num_experts_per_tok, 6);
  EXPECT_EQ(c.first_k_dense_replace, 1);
  EXPECT_EQ(c.topk_method, "greedy");
  EXPECT_EQ(c.scoring_func, "softmax");
  EXPECT_EQ(c.routed_scaling_factor, 1.0);
  EXPECT_FALSE(c.norm_topk_prob);
  EXPECT_FALSE(c.uses_mla());
  EXPECT_EQ(c.bos_token_id, 100000);
  EXPECT_THAT(c.eos_token_ids, ElementsAre(100001));
}

TEST(HfConfigTest, R1DistillQwen32b) {
  const HfConfig c = LoadFixture("r1_distill_qwen_32b");
  EXPECT_EQ(c.model_type, HfModelType::kQwen2);
  EXPECT_EQ(c.hidden_size, 5120);
  EXPECT_EQ(c.intermediate_size, 27648);
  EXPECT_EQ(c.num_hidden_layers, 64);
  EXPECT_EQ(c.num_attention_heads, 40);
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.vocab_size, 152064);
  EXPECT_EQ(c.max_position_embeddings, 131072);
  EXPECT_EQ(c.rope_theta, 1e6);
  EXPECT_FALSE(c.rope_scaling.has_value());
  EXPECT_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_FALSE(c.use_sliding_window);
  EXPECT_EQ(c.sliding_window, 131072);
  EXPECT_EQ(c.max_window_layers, 64);
  EXPECT_TRUE(c.qkv_bias());  // Qwen2's q/k/v biases are not in its config
  EXPECT_FALSE(c.attention_bias);
  EXPECT_EQ(c.bos_token_id, 151643);
  EXPECT_THAT(c.eos_token_ids, ElementsAre(151643));
  EXPECT_FALSE(c.is_moe());
  EXPECT_FALSE(c.IsMoeLayer(5));
}

TEST(HfConfigTest, R1DistillLlama8b) {
  const HfConfig c = LoadFixture("r1_distill_llama_8b");
  EXPECT_EQ(c.model_type, HfModelType::kLlama);
  EXPECT_EQ(c.hidden_size, 4096);
  EXPECT_EQ(c.intermediate_size, 14336);
  EXPECT_EQ(c.num_hidden_layers, 32);
  EXPECT_EQ(c.num_attention_heads, 32);
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.head_dim, 128);  // derived: no head_dim key
  EXPECT_EQ(c.vocab_size, 128256);
  EXPECT_EQ(c.rope_theta, 500000.0);
  ASSERT_TRUE(c.rope_scaling.has_value());
  EXPECT_EQ(c.rope_scaling->type, "llama3");  // from "rope_type"
  EXPECT_EQ(c.rope_scaling->factor, 8.0);
  EXPECT_EQ(c.rope_scaling->low_freq_factor, 1.0);
  EXPECT_EQ(c.rope_scaling->high_freq_factor, 4.0);
  EXPECT_EQ(c.rope_scaling->original_max_position_embeddings, 8192);
  EXPECT_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_FALSE(c.qkv_bias());
  EXPECT_EQ(c.bos_token_id, 128000);
  EXPECT_THAT(c.eos_token_ids, ElementsAre(128001));
}

TEST(HfConfigTest, DeepseekCoderLinearRope) {
  const HfConfig c = LoadFixture("deepseek_coder_6_7b_instruct");
  EXPECT_EQ(c.model_type, HfModelType::kLlama);
  EXPECT_EQ(c.vocab_size, 32256);
  EXPECT_EQ(c.max_position_embeddings, 16384);
  EXPECT_EQ(c.rope_theta, 100000.0);
  ASSERT_TRUE(c.rope_scaling.has_value());
  EXPECT_EQ(c.rope_scaling->type, "linear");
  EXPECT_EQ(c.rope_scaling->factor, 4.0);
  EXPECT_EQ(c.bos_token_id, 32013);
  EXPECT_THAT(c.eos_token_ids, ElementsAre(32021));
}

TEST(HfConfigTest, LoadAcceptsTheFilePathAndReportsMissingFiles) {
  auto by_file = LoadHfConfig(HfDir() + "/deepseek_v3/config.json");
  ASSERT_TRUE(by_file.ok()) << by_file.status().ToString();
  EXPECT_EQ(by_file->hidden_size, 7168);

  auto missing = LoadHfConfig(HfDir() + "/no_such_model");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("no_such_model"));
}

// --- defaults for absent keys: those of each HF config class ---

TEST(HfConfigDefaultsTest, DeepseekV3) {
  auto c = ParseConfigText(R"({"model_type": "deepseek_v3"})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->vocab_size, 129280);
  EXPECT_EQ(c->hidden_size, 7168);
  EXPECT_EQ(c->intermediate_size, 18432);
  EXPECT_EQ(c->moe_intermediate_size, 2048);
  EXPECT_EQ(c->num_hidden_layers, 61);
  EXPECT_EQ(c->num_attention_heads, 128);
  EXPECT_EQ(c->num_key_value_heads, 128);
  EXPECT_EQ(c->n_shared_experts, 1);
  EXPECT_EQ(c->n_routed_experts, 256);
  EXPECT_EQ(c->routed_scaling_factor, 2.5);
  EXPECT_EQ(c->kv_lora_rank, 512);
  EXPECT_EQ(c->q_lora_rank, 1536);
  EXPECT_EQ(c->qk_rope_head_dim, 64);
  EXPECT_EQ(c->v_head_dim, 128);
  EXPECT_EQ(c->qk_nope_head_dim, 128);
  EXPECT_EQ(c->n_group, 8);
  EXPECT_EQ(c->topk_group, 4);
  EXPECT_EQ(c->num_experts_per_tok, 8);
  EXPECT_EQ(c->first_k_dense_replace, 3);
  EXPECT_TRUE(c->norm_topk_prob);
  EXPECT_EQ(c->topk_method, "noaux_tc");
  EXPECT_EQ(c->scoring_func, "sigmoid");
  EXPECT_EQ(c->moe_layer_freq, 1);
  EXPECT_EQ(c->num_nextn_predict_layers, 1);
  EXPECT_EQ(c->max_position_embeddings, 4096);
  EXPECT_EQ(c->rms_norm_eps, 1e-6);
  EXPECT_EQ(c->rope_theta, 10000.0);
  EXPECT_FALSE(c->rope_scaling.has_value());
  EXPECT_EQ(c->bos_token_id, 0);
  EXPECT_THAT(c->eos_token_ids, ElementsAre(1));
  EXPECT_FALSE(c->pad_token_id.has_value());
  EXPECT_FALSE(c->tie_word_embeddings);
  EXPECT_FALSE(c->attention_bias);
  EXPECT_EQ(c->hidden_act, "silu");
  EXPECT_TRUE(c->architectures.empty());
  EXPECT_TRUE(c->torch_dtype.empty());
}

TEST(HfConfigDefaultsTest, DeepseekV2NeedsOnlyExpertsPerToken) {
  // transformers' DeepseekV2Config defaults num_experts_per_tok to None with 64 experts, a
  // config no model can run; everything else has a usable default.
  auto bare = ParseConfigText(R"({"model_type": "deepseek_v2"})");
  ASSERT_FALSE(bare.ok());
  EXPECT_THAT(std::string(bare.status().message()), HasSubstr("num_experts_per_tok"));

  auto c = ParseConfigText(R"({"model_type": "deepseek_v2", "num_experts_per_tok": 6})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->vocab_size, 32000);
  EXPECT_EQ(c->hidden_size, 4096);
  EXPECT_EQ(c->num_hidden_layers, 32);
  EXPECT_EQ(c->num_key_value_heads, 32);  // None -> num_attention_heads
  EXPECT_EQ(c->max_position_embeddings, 2048);
  EXPECT_EQ(c->moe_intermediate_size, 1407);
  EXPECT_EQ(c->n_routed_experts, 64);
  EXPECT_EQ(c->n_shared_experts, 2);
  EXPECT_EQ(c->first_k_dense_replace, 0);
  EXPECT_EQ(c->q_lora_rank, 1536);
  EXPECT_EQ(c->topk_method, "greedy");
  EXPECT_EQ(c->scoring_func, "softmax");
  EXPECT_EQ(c->n_group, 0);
  EXPECT_EQ(c->routed_scaling_factor, 1.0);
  EXPECT_EQ(c->bos_token_id, 1);
  EXPECT_THAT(c->eos_token_ids, ElementsAre(2));
  EXPECT_EQ(c->head_dim, 64);
}

TEST(HfConfigDefaultsTest, LlamaQwen2AndDeepseek) {
  auto llama = ParseConfigText(R"({"model_type": "llama"})");
  ASSERT_TRUE(llama.ok()) << llama.status().ToString();
  EXPECT_EQ(llama->vocab_size, 32000);
  EXPECT_EQ(llama->hidden_size, 4096);
  EXPECT_EQ(llama->intermediate_size, 11008);
  EXPECT_EQ(llama->num_hidden_layers, 32);
  EXPECT_EQ(llama->num_key_value_heads, 32);
  EXPECT_EQ(llama->head_dim, 128);
  EXPECT_EQ(llama->max_position_embeddings, 2048);
  EXPECT_EQ(llama->bos_token_id, 1);
  EXPECT_THAT(llama->eos_token_ids, ElementsAre(2));
  EXPECT_FALSE(llama->is_moe());

  auto qwen = ParseConfigText(R"({"model_type": "qwen2"})");
  ASSERT_TRUE(qwen.ok()) << qwen.status().ToString();
  EXPECT_EQ(qwen->vocab_size, 151936);
  EXPECT_EQ(qwen->intermediate_size, 22016);
  EXPECT_EQ(qwen->num_key_value_heads, 32);
  EXPECT_EQ(qwen->max_position_embeddings, 32768);
  EXPECT_FALSE(qwen->use_sliding_window);
  EXPECT_EQ(qwen->sliding_window, 4096);
  EXPECT_EQ(qwen->max_window_layers, 28);
  EXPECT_FALSE(qwen->bos_token_id.has_value());
  EXPECT_TRUE(qwen->eos_token_ids.empty());

  // The MoE-16B class defaults to no routed experts: a dense model.
  auto deepseek = ParseConfigText(R"({"model_type": "deepseek"})");
  ASSERT_TRUE(deepseek.ok()) << deepseek.status().ToString();
  EXPECT_EQ(deepseek->vocab_size, 102400);
  EXPECT_EQ(deepseek->num_hidden_layers, 30);
  EXPECT_EQ(deepseek->moe_intermediate_size, 1407);
  EXPECT_FALSE(deepseek->is_moe());
  EXPECT_FALSE(deepseek->IsMoeLayer(3));
  EXPECT_EQ(deepseek->bos_token_id, 100000);
}

TEST(HfConfigDefaultsTest, DeepseekMoeRemoteCodeClass) {
  // Every default of DeepseekConfig in deepseek-moe-16b's configuration_deepseek.py.
  auto c = ParseConfigText(R"({"model_type": "deepseek"})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->vocab_size, 102400);
  EXPECT_EQ(c->hidden_size, 4096);
  EXPECT_EQ(c->intermediate_size, 11008);
  EXPECT_EQ(c->moe_intermediate_size, 1407);
  EXPECT_EQ(c->num_hidden_layers, 30);
  EXPECT_EQ(c->num_attention_heads, 32);
  EXPECT_EQ(c->num_key_value_heads, 32);
  EXPECT_EQ(c->head_dim, 128);
  EXPECT_EQ(c->n_shared_experts, 0);     // None
  EXPECT_EQ(c->n_routed_experts, 0);     // None: dense
  EXPECT_EQ(c->num_experts_per_tok, 0);  // None
  EXPECT_EQ(c->moe_layer_freq, 1);
  EXPECT_EQ(c->first_k_dense_replace, 0);
  EXPECT_FALSE(c->norm_topk_prob);
  EXPECT_EQ(c->scoring_func, "softmax");
  EXPECT_EQ(c->topk_method, "greedy");
  EXPECT_EQ(c->n_group, 0);
  EXPECT_EQ(c->topk_group, 0);
  EXPECT_EQ(c->routed_scaling_factor, 1.0);
  EXPECT_EQ(c->hidden_act, "silu");
  EXPECT_EQ(c->max_position_embeddings, 2048);
  EXPECT_EQ(c->rms_norm_eps, 1e-6);
  EXPECT_FALSE(c->pad_token_id.has_value());
  EXPECT_EQ(c->bos_token_id, 100000);
  EXPECT_THAT(c->eos_token_ids, ElementsAre(100001));
  EXPECT_FALSE(c->tie_word_embeddings);
  EXPECT_EQ(c->rope_theta, 10000.0);
  EXPECT_FALSE(c->rope_scaling.has_value());
  EXPECT_FALSE(c->attention_bias);
  EXPECT_FALSE(c->mlp_bias);
  EXPECT_FALSE(c->uses_mla());
  EXPECT_FALSE(c->is_moe());

  // The three MoE counts are all a MoE config needs beyond the class defaults.
  auto moe = ParseConfigText(
      R"({"model_type": "deepseek", "n_routed_experts": 64, "n_shared_experts": 2,
          "num_experts_per_tok": 6})");
  ASSERT_TRUE(moe.ok()) << moe.status().ToString();
  EXPECT_TRUE(moe->IsMoeLayer(0));  // first_k_dense_replace 0
  EXPECT_EQ(moe->moe_intermediate_size, 1407);
}

TEST(HfConfigDefaultsTest, MlpBias) {
  auto absent = ParseConfigText(R"({"model_type": "llama"})");
  ASSERT_TRUE(absent.ok()) << absent.status().ToString();
  EXPECT_FALSE(absent->mlp_bias);
  auto off = ParseConfigText(R"({"model_type": "llama", "mlp_bias": false})");
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_FALSE(off->mlp_bias);
  // Qwen2Config has no such key (Qwen2MLP never has a bias): ignored like any unknown key.
  auto qwen = ParseConfigText(R"({"model_type": "qwen2", "mlp_bias": true})");
  ASSERT_TRUE(qwen.ok()) << qwen.status().ToString();
  EXPECT_FALSE(qwen->mlp_bias);
}

TEST(HfConfigDefaultsTest, NullsAndAlternativeSpellings) {
  auto c = ParseConfigText(R"({
    "model_type": "llama", "num_key_value_heads": null, "head_dim": 64, "hidden_size": 2048,
    "vocab_size": 128256,
    "num_attention_heads": 64, "eos_token_id": [128001, 128008, 128009], "bos_token_id": null,
    "pad_token_id": -1, "dtype": "float16", "max_position_embeddings": 8192.0,
    "rope_parameters": {"rope_type": "default", "rope_theta": 250000.0},
    "architectures": null, "some_future_key": {"nested": [1, 2, 3]}
  })");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->num_key_value_heads, 64);
  EXPECT_EQ(c->head_dim, 64);
  EXPECT_THAT(c->eos_token_ids, ElementsAre(128001, 128008, 128009));
  EXPECT_FALSE(c->bos_token_id.has_value());
  EXPECT_EQ(c->pad_token_id, -1);
  EXPECT_EQ(c->torch_dtype, "float16");
  EXPECT_EQ(c->max_position_embeddings, 8192);
  EXPECT_EQ(c->rope_theta, 250000.0);
  EXPECT_FALSE(c->rope_scaling.has_value());

  auto yarn = ParseConfigText(R"({"model_type": "deepseek_v3", "rope_scaling": {"rope_type": "yarn",
                        "type": "yarn", "factor": 40}})");
  ASSERT_TRUE(yarn.ok()) << yarn.status().ToString();
  EXPECT_EQ(yarn->rope_scaling->beta_fast, 32.0);  // remote-code yarn defaults
  EXPECT_EQ(yarn->rope_scaling->beta_slow, 1.0);
  EXPECT_EQ(yarn->rope_scaling->mscale, 1.0);
  EXPECT_EQ(yarn->rope_scaling->mscale_all_dim, 0.0);
  EXPECT_FALSE(yarn->rope_scaling->original_max_position_embeddings.has_value());

  auto v31 = ParseConfigText(
      R"({"model_type": "deepseek_v3", "quantization_config": {"quant_method": "fp8",
                       "fmt": "e4m3", "weight_block_size": [128, 128], "scale_fmt": "ue8m0"}})");
  ASSERT_TRUE(v31.ok()) << v31.status().ToString();
  EXPECT_EQ(v31->quantization_config->scale_fmt, "ue8m0");

  auto dense_v2 = ParseConfigText(R"({"model_type": "deepseek_v2", "n_routed_experts": null})");
  ASSERT_TRUE(dense_v2.ok()) << dense_v2.status().ToString();
  EXPECT_FALSE(dense_v2->is_moe());
}

}  // namespace
}  // namespace dsinfer
