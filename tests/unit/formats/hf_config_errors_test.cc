// Bad config.json files: every error names the file and the field.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "formats/generation_config.h"
#include "formats/hf_config.h"
#include "hf_config_test_util.h"

namespace dsinfer {
namespace {

using ::testing::HasSubstr;

// --- bad configs: the error names the file and the field ---

struct BadConfig {
  const char* json;
  const char* field;   // must appear in the message
  const char* detail;  // and so must this
};

TEST(HfConfigErrorsTest, BadConfigsNameTheField) {
  const std::vector<BadConfig> cases = {
      {R"({"model_type": "llama",})", "not valid JSON", "line 1, column 24"},
      {"[1]", "not a JSON object", ""},
      {R"({"hidden_size": 4096})", "model_type", "missing"},
      {R"({"model_type": 3})", "model_type", "must be a string"},
      {R"({"model_type": "mistral"})", "model_type 'mistral'",
       "supported: llama, qwen2, deepseek, deepseek_v2, deepseek_v3"},
      {R"({"model_type": "llama", "hidden_size": "4096"})", "hidden_size",
       "must be an integer, got \"4096\""},
      {R"({"model_type": "llama", "hidden_size": 4096.5})", "hidden_size", "must be an integer"},
      {R"({"model_type": "llama", "hidden_size": 0})", "hidden_size", "0 is not positive"},
      {R"({"model_type": "llama", "num_hidden_layers": -2})", "num_hidden_layers", "not positive"},
      {R"({"model_type": "llama", "vocab_size": null})", "vocab_size", "got null"},
      {R"({"model_type": "llama", "num_key_value_heads": 5})", "num_key_value_heads",
       "5 does not divide num_attention_heads 32"},
      {R"({"model_type": "llama", "hidden_size": 4000, "num_attention_heads": 48})", "hidden_size",
       "not divisible by num_attention_heads 48"},
      {R"({"model_type": "llama", "head_dim": 63})", "head_dim", "odd"},
      {R"({"model_type": "llama", "rope_theta": -1})", "rope_theta", "not positive"},
      {R"({"model_type": "llama", "rope_theta": "big"})", "rope_theta", "must be a number"},
      {R"({"model_type": "llama", "rms_norm_eps": 0})", "rms_norm_eps", "not in (0, 1)"},
      {R"({"model_type": "llama", "tie_word_embeddings": "false"})", "tie_word_embeddings",
       "must be true or false"},
      {R"({"model_type": "llama", "eos_token_id": "</s>"})", "eos_token_id",
       "an integer, a list of integers or null"},
      {R"({"model_type": "llama", "eos_token_id": [2, "x"]})", "eos_token_id", "list of integers"},
      {R"({"model_type": "llama", "eos_token_id": 32000})", "eos_token_id",
       "32000 is outside the vocabulary [0, 32000)"},
      {R"({"model_type": "llama", "bos_token_id": -5})", "bos_token_id", "outside the vocabulary"},
      {R"({"model_type": "llama", "architectures": "LlamaForCausalLM"})", "architectures",
       "list of strings"},
      {R"({"model_type": "llama", "hidden_act": "gelu"})", "hidden_act",
       "'gelu' is not supported for llama (supported: silu)"},
      {R"({"model_type": "deepseek_v3", "hidden_act": "relu"})", "hidden_act",
       "'relu' is not supported for deepseek_v3"},
      {R"({"model_type": "llama", "hidden_act": null})", "hidden_act", "must be a string"},
      {R"({"model_type": "llama", "mlp_bias": true})", "mlp_bias",
       "'true' is not supported for llama (supported: false)"},
      {R"({"model_type": "llama", "mlp_bias": "no"})", "mlp_bias", "must be true or false"},
      {R"({"model_type": "llama", "rope_scaling": "yarn"})", "rope_scaling", "an object or null"},
      {R"({"model_type": "llama", "rope_scaling": {"factor": 2}})", "rope_scaling.type", "missing"},
      {R"({"model_type": "llama", "rope_scaling": {"type": "linear"}})", "rope_scaling.factor",
       "missing (required by linear)"},
      {R"({"model_type": "llama", "rope_scaling": {"type": "linear", "factor": 0}})",
       "rope_scaling.factor", "not positive"},
      {R"({"model_type": "llama", "rope_scaling": {"type": "longrope", "factor": 2}})",
       "rope_scaling.type", "'longrope' is not supported"},
      {R"({"model_type": "llama", "rope_scaling": {"type": "yarn", "rope_type": "linear",
          "factor": 2}})",
       "rope_scaling.rope_type", "disagrees with type 'yarn'"},
      {R"({"model_type": "llama", "rope_scaling": {"rope_type": "llama3", "factor": 8,
          "high_freq_factor": 4, "original_max_position_embeddings": 8192}})",
       "rope_scaling.low_freq_factor", "missing (required by llama3)"},
      {R"({"model_type": "llama", "rope_scaling": {"rope_type": "llama3", "factor": 8,
          "low_freq_factor": 4, "high_freq_factor": 4, "original_max_position_embeddings": 8192}})",
       "rope_scaling.high_freq_factor", "not greater than low_freq_factor"},
      {R"({"model_type": "llama", "rope_scaling": {"type": "yarn", "factor": 4,
          "original_max_position_embeddings": 0}})",
       "rope_scaling.original_max_position_embeddings", "not positive"},
      {R"({"model_type": "llama", "rope_scaling": {"type": "yarn", "factor": 4, "mscale": "x"}})",
       "rope_scaling.mscale", "must be a number"},
      {R"({"model_type": "qwen2", "use_sliding_window": true, "sliding_window": null})",
       "sliding_window", "positive integer when use_sliding_window"},
      {R"({"model_type": "qwen2", "use_sliding_window": 1})", "use_sliding_window",
       "true or false"},
      {R"({"model_type": "deepseek_v3", "num_experts_per_tok": 300})", "num_experts_per_tok",
       "300 is not in [1, n_routed_experts = 256]"},
      {R"({"model_type": "deepseek_v3", "num_experts_per_tok": null})", "num_experts_per_tok",
       "null or absent, but a MoE model (n_routed_experts = 256) needs it"},
      {R"({"model_type": "deepseek_v3", "num_experts_per_tok": -1})", "num_experts_per_tok",
       "-1 is not in [1, n_routed_experts = 256]"},
      {R"({"model_type": "deepseek_v3", "n_routed_experts": -4})", "n_routed_experts", "negative"},
      {R"({"model_type": "deepseek_v3", "n_shared_experts": -1})", "n_shared_experts", "negative"},
      {R"({"model_type": "deepseek_v3", "moe_intermediate_size": 0})", "moe_intermediate_size",
       "not positive"},
      {R"({"model_type": "deepseek_v3", "first_k_dense_replace": 62})", "first_k_dense_replace",
       "not in [0, num_hidden_layers = 61]"},
      {R"({"model_type": "deepseek_v3", "moe_layer_freq": 0})", "moe_layer_freq", "not positive"},
      {R"({"model_type": "deepseek_v3", "routed_scaling_factor": 0})", "routed_scaling_factor",
       "not positive"},
      {R"({"model_type": "deepseek_v3", "n_group": 7})", "n_group",
       "7 does not divide n_routed_experts 256"},
      {R"({"model_type": "deepseek_v3", "n_group": null})", "n_group",
       "must be positive for topk_method noaux_tc"},
      {R"({"model_type": "deepseek_v3", "topk_group": 9})", "topk_group",
       "9 is not in [1, n_group = 8]"},
      {R"({"model_type": "deepseek_v3", "topk_group": 1, "num_experts_per_tok": 40})",
       "num_experts_per_tok", "exceeds the 32 experts in topk_group 1 of 8 groups"},
      {R"({"model_type": "deepseek_v3", "topk_method": "greedy"})", "topk_method",
       "'greedy' is not supported for deepseek_v3 (supported: noaux_tc)"},
      {R"({"model_type": "deepseek_v3", "scoring_func": "softmax"})", "scoring_func",
       "not supported for deepseek_v3"},
      {R"({"model_type": "deepseek_v2", "num_experts_per_tok": 6, "scoring_func": "sigmoid"})",
       "scoring_func", "supported: softmax"},
      {R"({"model_type": "deepseek_v2", "num_experts_per_tok": 6, "topk_method": "gready"})",
       "topk_method", "supported: greedy, group_limited_greedy"},
      {R"({"model_type": "deepseek_v2", "num_experts_per_tok": 6, "norm_topk_prob": 0})",
       "norm_topk_prob", "true or false"},
      {R"({"model_type": "deepseek_v3", "q_lora_rank": 0})", "q_lora_rank", "not positive"},
      {R"({"model_type": "deepseek_v3", "q_lora_rank": "1536"})", "q_lora_rank",
       "an integer or null"},
      {R"({"model_type": "deepseek_v3", "kv_lora_rank": null})", "kv_lora_rank", "got null"},
      {R"({"model_type": "deepseek_v3", "qk_rope_head_dim": 63})", "qk_rope_head_dim", "odd"},
      {R"({"model_type": "deepseek_v3", "v_head_dim": 0})", "v_head_dim", "not positive"},
      {R"({"model_type": "deepseek_v3", "num_nextn_predict_layers": -1})",
       "num_nextn_predict_layers", "negative"},
      {R"({"model_type": "deepseek_v3", "quantization_config": [1]})", "quantization_config",
       "an object or null"},
      {R"({"model_type": "deepseek_v3", "quantization_config": {"fmt": "e4m3"}})",
       "quantization_config.quant_method", "missing"},
      {R"({"model_type": "deepseek_v3", "quantization_config": {"quant_method": "fp8",
          "weight_block_size": [128]}})",
       "quantization_config.weight_block_size", "has 1 entries"},
      {R"({"model_type": "deepseek_v3", "quantization_config": {"quant_method": "fp8",
          "weight_block_size": [128, 0]}})",
       "quantization_config.weight_block_size", "positive integers"},
  };
  for (const BadConfig& c : cases) {
    SCOPED_TRACE(c.json);
    auto parsed = ParseConfigText(c.json);
    ASSERT_FALSE(parsed.ok());
    const std::string message(parsed.status().message());
    EXPECT_THAT(message, ::testing::StartsWith("cfg.json: "));
    EXPECT_THAT(message, HasSubstr(c.field));
    EXPECT_THAT(message, HasSubstr(c.detail));
  }
}

TEST(HfConfigErrorsTest, NestingIsBoundedBeforeParsing) {
  // The top-level object is level 1: 63 arrays inside it are the most allowed.
  const auto nested = [](int arrays) {
    return R"({"model_type": "llama", "extra": )" + std::string(arrays, '[') +
           std::string(arrays, ']') + "}";
  };
  EXPECT_TRUE(ParseConfigText(nested(63)).ok());
  auto deep = ParseConfigText(nested(64));
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(deep.status().message(), "cfg.json: nests deeper than 64 levels");
  // A bomb fails at level 65, before a DOM whose dump() or copy would recurse 8M times.
  auto bomb = ParseConfigText(std::string(size_t{8} << 20, '['));
  ASSERT_FALSE(bomb.ok());
  EXPECT_THAT(std::string(bomb.status().message()), HasSubstr("nests deeper"));
  auto generation = ParseGenerationConfig(nested(64), "gen.json");
  ASSERT_FALSE(generation.ok());
  EXPECT_THAT(std::string(generation.status().message()), HasSubstr("gen.json: nests deeper"));
}

TEST(HfConfigErrorsTest, CodesSeparateBadValuesFromUnsupportedOnes) {
  EXPECT_EQ(ParseConfigText(R"({"model_type": "gpt2"})").status().code(),
            StatusCode::kUnimplemented);
  EXPECT_EQ(ParseConfigText(R"({"model_type": "qwen2", "hidden_act": "gelu_pytorch_tanh"})")
                .status()
                .code(),
            StatusCode::kUnimplemented);
  EXPECT_EQ(ParseConfigText(R"({"model_type": "llama", "mlp_bias": true})").status().code(),
            StatusCode::kUnimplemented);
  EXPECT_EQ(ParseConfigText(R"({"model_type": "llama", "mlp_bias": 1})").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseConfigText(R"({"model_type": "llama", "hidden_size": 0})").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseConfigText("\xFF").status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(ParseConfigText("{\"a\": \"\xC0\xAF\"}").status().message()),
              HasSubstr("not valid UTF-8"));
}

}  // namespace
}  // namespace dsinfer
