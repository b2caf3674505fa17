// Per-tensor type rules: parsing "TYPE:PATTERN" with clear errors, matching (substring and
// ^/$ anchors, first match wins), and the choice for one tensor: untouched non-matrices,
// llama.cpp's fallbacks, and pure mode refusing them.
#include "model/tensor_type_rules.h"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "model/model_presets.h"
#include "model/tensor_storage_type.h"

namespace dsinfer {
namespace {

TensorSpec Matrix(std::string name, int64_t ne0, int64_t ne1,
                  TensorRole role = TensorRole::kWeight) {
  return {.gguf_name = std::move(name), .ne = {ne0, ne1}, .role = role};
}

// The choice for a file of one tensor.
StatusOr<TensorTypeChoice> ChooseTensorType(const TensorSpec& spec,
                                            const TensorTypePolicy& policy) {
  DSI_ASSIGN_OR_RETURN(std::vector<TensorTypeChoice> choices,
                       ChooseTensorTypes(std::span<const TensorSpec>(&spec, 1), policy));
  return choices.front();
}

TEST(TensorTypeRulesTest, ParsesTypeAndPattern) {
  StatusOr<TensorTypeRule> rule = ParseTensorTypeRule("q8_0:attn");
  ASSERT_TRUE(rule.ok()) << rule.status().ToString();
  EXPECT_EQ(rule->type, DType::kQ8_0);
  EXPECT_EQ(rule->pattern, "attn");
  EXPECT_EQ(rule->ToString(), "q8_0:attn");

  rule = ParseTensorTypeRule("Q4_K:ffn_down_exps");
  ASSERT_TRUE(rule.ok());
  EXPECT_EQ(rule->type, DType::kQ4_K);
  EXPECT_EQ(rule->pattern, "ffn_down_exps");

  rule = ParseTensorTypeRule("bf16:^output.weight$");  // only the first ':' splits
  ASSERT_TRUE(rule.ok());
  EXPECT_EQ(rule->type, DType::kBF16);
  EXPECT_EQ(rule->pattern, "^output.weight$");
}

TEST(TensorTypeRulesTest, BadRulesSayWhatIsWrong) {
  const struct {
    const char* text;
    const char* message;
  } cases[] = {
      {"q8_0attn", "tensor type rule 'q8_0attn': no ':'"},
      {":attn", "empty type"},
      {"q9_0:attn", "'q9_0' is not a type; weight types: f32, f16, bf16"},
      {"q8_K:attn", "q8_K cannot store weights"},
      {"q8_0:", "empty pattern"},
      {"q8_0:^$", "empty pattern"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const StatusOr<TensorTypeRule> rule = ParseTensorTypeRule(c.text);
    ASSERT_FALSE(rule.ok());
    EXPECT_EQ(rule.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(rule.status().message().find(c.message), std::string_view::npos)
        << rule.status().message();
    EXPECT_NE(rule.status().message().find("TYPE:PATTERN"), std::string_view::npos);
  }
  const std::vector<std::string> texts = {"q8_0:attn", "nope", "f16:x"};
  const StatusOr<std::vector<TensorTypeRule>> rules = ParseTensorTypeRules(texts);
  ASSERT_FALSE(rules.ok());
  EXPECT_NE(rules.status().message().find("'nope'"), std::string_view::npos);
}

TEST(TensorTypeRulesTest, PatternsMatchSubstringsOrAnchoredEnds) {
  const auto matches = [](const char* pattern, const char* name) {
    return TensorTypeRule{.type = DType::kQ8_0, .pattern = pattern}.Matches(name);
  };
  EXPECT_TRUE(matches("attn", "blk.0.attn_q.weight"));
  EXPECT_TRUE(matches("output", "blk.0.attn_output.weight"));  // why anchors exist
  EXPECT_FALSE(matches("attn", "blk.0.ffn_down.weight"));
  EXPECT_TRUE(matches("^output.weight$", "output.weight"));
  EXPECT_FALSE(matches("^output.weight$", "blk.0.attn_output.weight"));
  EXPECT_TRUE(matches("^blk.1.", "blk.1.ffn_up.weight"));
  EXPECT_FALSE(matches("^blk.1.", "blk.11.ffn_up.weight"));
  EXPECT_TRUE(matches("_exps.weight$", "blk.3.ffn_down_exps.weight"));
  EXPECT_FALSE(matches("_exps$", "blk.3.ffn_down_exps.weight"));
}

TEST(TensorTypeRulesTest, FirstMatchingRuleWins) {
  const std::vector<TensorTypeRule> rules = {{DType::kQ8_0, "attn_kv"}, {DType::kF16, "attn"}};
  EXPECT_EQ(FindTensorTypeRule(rules, "blk.0.attn_kv_a_mqa.weight"), &rules[0]);
  EXPECT_EQ(FindTensorTypeRule(rules, "blk.0.attn_q.weight"), &rules[1]);
  EXPECT_EQ(FindTensorTypeRule(rules, "blk.0.ffn_up.weight"), nullptr);

  const TensorTypePolicy policy{.requested = DType::kQ4_K, .rules = rules};
  StatusOr<TensorTypeChoice> choice =
      ChooseTensorType(Matrix("blk.0.attn_kv_a_mqa.weight", 256, 64), policy);
  ASSERT_TRUE(choice.ok());
  EXPECT_EQ(choice->type, DType::kQ8_0);
  EXPECT_EQ(choice->rule, &policy.rules[0]);
  choice = ChooseTensorType(Matrix("blk.0.ffn_up.weight", 256, 64), policy);
  ASSERT_TRUE(choice.ok());
  EXPECT_EQ(choice->type, DType::kQ4_K);
  EXPECT_EQ(choice->rule, nullptr);
}

// Without rules the choice is tensor_storage_type.h's, for every tensor of every tiny model.
TEST(TensorTypeRulesTest, WithoutRulesTheChoiceIsStorageTypeFor) {
  for (const char* preset :
       {"tiny-llama", "tiny-qwen2", "tiny-deepseek", "tiny-deepseek2", "tiny-v2-lite", "tiny-v2"}) {
    const std::vector<TensorSpec> layout = BuildTensorLayout(*ModelPreset(preset));
    for (DType type : {DType::kF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ5_K,
                       DType::kQ6_K, DType::kQ2_K}) {
      for (const TensorSpec& spec : layout) {
        SCOPED_TRACE(std::string(preset) + " " + spec.gguf_name);
        const StatusOr<TensorTypeChoice> choice = ChooseTensorType(spec, {.requested = type});
        ASSERT_TRUE(choice.ok());
        EXPECT_EQ(choice->type, StorageTypeFor(spec, type));
      }
    }
  }
}

TEST(TensorTypeRulesTest, RulesNeverTouchNormsBiasesOrTheRouter) {
  const TensorTypePolicy policy{.requested = DType::kQ4_K,
                                .rules = {{DType::kQ8_0, "blk."}, {DType::kF16, "norm"}}};
  const TensorSpec kept[] = {
      {.gguf_name = "blk.0.attn_norm.weight", .ne = {256}, .role = TensorRole::kNorm},
      {.gguf_name = "blk.0.attn_q.bias", .ne = {256}, .role = TensorRole::kBias},
      {.gguf_name = "blk.1.exp_probs_b.bias", .ne = {8}, .role = TensorRole::kExpertBias},
      Matrix("blk.1.ffn_gate_inp.weight", 256, 8, TensorRole::kRouter),
      {.gguf_name = "output_norm.weight", .ne = {256}, .role = TensorRole::kNorm},
  };
  for (const TensorSpec& spec : kept) {
    SCOPED_TRACE(spec.gguf_name);
    const StatusOr<TensorTypeChoice> choice = ChooseTensorType(spec, policy);
    ASSERT_TRUE(choice.ok());
    EXPECT_FALSE(choice->weight_matrix);
    EXPECT_EQ(choice->type, DType::kF32);
    EXPECT_EQ(choice->rule, nullptr);
  }
}

// llama-quantize's current fallbacks for rows of 128 (V3's attn_k_b): the 2- and 3-bit
// K-quants go to Q4_0 (IQ4_NL before mid-2024), the IQ types to IQ4_NL.
TEST(TensorTypeRulesTest, FallbacksAreLlamaCppsCurrentOnes) {
  const TensorSpec k_b = Matrix("blk.0.attn_k_b.weight", 128, 512);
  const std::vector<std::pair<DType, DType>> expected = {
      {DType::kQ2_K, DType::kQ4_0},      {DType::kQ3_K, DType::kQ4_0},
      {DType::kQ4_K, DType::kQ5_0},      {DType::kQ5_K, DType::kQ5_1},
      {DType::kQ6_K, DType::kQ8_0},      {DType::kIQ4_XS, DType::kIQ4_NL},
      {DType::kIQ2_XXS, DType::kIQ4_NL}, {DType::kQ8_0, DType::kQ8_0}};
  for (const auto& [wanted, stored] : expected) {
    SCOPED_TRACE(DTypeName(wanted));
    EXPECT_EQ(StorageTypeFor(k_b, wanted), stored);
  }
}

TEST(TensorTypeRulesTest, RuleTypesFallBackLikeTheRequestedType) {
  const TensorTypePolicy policy{.requested = DType::kQ8_0, .rules = {{DType::kQ6_K, "ffn_down"}}};
  const StatusOr<TensorTypeChoice> choice =
      ChooseTensorType(Matrix("blk.0.ffn_down.weight", 1408, 2048), policy);
  ASSERT_TRUE(choice.ok());
  EXPECT_EQ(choice->wanted, DType::kQ6_K);
  EXPECT_EQ(choice->type, DType::kQ8_0);  // llama.cpp: Q6_K -> Q8_0 for rows of 1408
  EXPECT_TRUE(choice->fell_back());
}

TEST(TensorTypeRulesTest, PureRefusesRowsTheTypeCannotHold) {
  TensorTypePolicy policy{.requested = DType::kQ4_K, .pure = true};
  const StatusOr<TensorTypeChoice> fits =
      ChooseTensorType(Matrix("blk.0.attn_q.weight", 512, 64), policy);
  ASSERT_TRUE(fits.ok());
  EXPECT_EQ(fits->type, DType::kQ4_K);

  StatusOr<TensorTypeChoice> choice =
      ChooseTensorType(Matrix("blk.2.attn_k_b.weight", 128, 512), policy);
  ASSERT_FALSE(choice.ok());
  EXPECT_EQ(choice.status().message(),
            "tensor blk.2.attn_k_b.weight: rows of 128 elements cannot be stored in q4_K "
            "(blocks of 256); pure types have no fallback (llama.cpp's is q5_0): give it a type "
            "that fits with a rule such as q8_0:attn_k_b");
  choice = ChooseTensorType(Matrix("blk.2.attn_k_b.weight", 16, 512), policy);
  ASSERT_FALSE(choice.ok());
  EXPECT_NE(choice.status().message().find("llama.cpp's is f16): give it a type that fits with "
                                           "a rule such as f16:attn_k_b"),
            std::string_view::npos)
      << choice.status().message();

  // A rule naming a type that fits makes the pure file possible.
  policy.rules = {{DType::kQ8_0, "attn_k_b"}};
  choice = ChooseTensorType(Matrix("blk.2.attn_k_b.weight", 128, 512), policy);
  ASSERT_TRUE(choice.ok());
  EXPECT_EQ(choice->type, DType::kQ8_0);
}

TEST(TensorTypeRulesTest, WeightTypesAreTheOnesQuantCanWrite) {
  EXPECT_TRUE(CheckWeightType(DType::kQ4_K).ok());
  EXPECT_TRUE(CheckWeightType(DType::kBF16).ok());
  EXPECT_FALSE(CheckWeightType(DType::kQ8_K).ok());
  EXPECT_FALSE(CheckWeightType(DType::kI32).ok());
  EXPECT_NE(WeightTypeNames().find("q6_K"), std::string::npos);
  EXPECT_EQ(WeightTypeNames().find("q8_K"), std::string::npos);
  // Read, not written: the message says why and what to use instead.
  const Status iq1 = CheckWeightType(DType::kIQ1_S);
  EXPECT_NE(iq1.message().find("dsinfer reads iq1_s weights but cannot write them"),
            std::string::npos)
      << iq1.message();
  EXPECT_NE(iq1.message().find("llama-quantize --imatrix"), std::string::npos);
  EXPECT_EQ(WeightTypeNames().find("iq1_s"), std::string::npos);
}

}  // namespace
}  // namespace dsinfer
