// llama.cpp's Q*_K_S/M/L mixtures on the real layouts: which layers get the raised types
// (written out here layer by layer, not through the rule being tested), the counting order
// llama-quantize uses, the 8-expert and 70B exceptions, rules taking precedence (and not
// counting), and the errors.
#include "model/quant_mixture.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "model/model_presets.h"
#include "model/tensor_layout.h"
#include "model/tensor_type_rules.h"

namespace dsinfer {
namespace {

TensorTypePolicy MixturePolicy(QuantMixture mixture, const MixtureModel& model) {
  TensorTypePolicy policy;
  policy.requested = GetQuantMixtureInfo(mixture).base;
  policy.mixture = mixture;
  policy.model = model;
  return policy;
}

// Stored type by GGUF name.
std::map<std::string, DType> Choose(const std::vector<TensorSpec>& layout,
                                    const TensorTypePolicy& policy) {
  const StatusOr<std::vector<TensorTypeChoice>> choices = ChooseTensorTypes(layout, policy);
  EXPECT_TRUE(choices.ok()) << choices.status().message();
  std::map<std::string, DType> types;
  if (!choices.ok()) return types;
  for (size_t i = 0; i < layout.size(); ++i) types[layout[i].gguf_name] = (*choices)[i].type;
  return types;
}

std::vector<TensorSpec> Layout(std::string_view preset) {
  const StatusOr<ModelConfig> config = ModelPreset(preset);
  EXPECT_TRUE(config.ok());
  return BuildTensorLayout(*config);
}

std::string Blk(int layer, std::string_view base) {
  return "blk." + std::to_string(layer) + "." + std::string(base) + ".weight";
}

constexpr MixtureModel kQwen15b{
    .arch = ModelArch::kQwen2, .layers = 28, .heads = 12, .kv_heads = 2, .experts = 0};

TEST(QuantMixtureTest, NamesInAnyCaseWithBaseTypeAndFileType) {
  ASSERT_EQ(QuantMixtureFromName("q4_k_m"), QuantMixture::kQ4_K_M);
  ASSERT_EQ(QuantMixtureFromName("Q5_K_S"), QuantMixture::kQ5_K_S);
  EXPECT_FALSE(QuantMixtureFromName("q4_k").has_value());
  EXPECT_FALSE(QuantMixtureFromName("q2_k_s").has_value());  // needs an importance matrix
  EXPECT_FALSE(QuantMixtureFromName("q4_k_mm").has_value());
  const QuantMixtureInfo& m = GetQuantMixtureInfo(QuantMixture::kQ4_K_M);
  EXPECT_EQ(m.base, DType::kQ4_K);
  EXPECT_EQ(m.file_type, 15u);
  EXPECT_EQ(GetQuantMixtureInfo(QuantMixture::kQ3_K_S).file_type, 11u);
  EXPECT_EQ(GetQuantMixtureInfo(QuantMixture::kQ5_K_M).file_type, 17u);
  EXPECT_EQ(GetQuantMixtureInfo(QuantMixture::kQ3_K_L).base, DType::kQ3_K);
  EXPECT_EQ(QuantMixtureNames(), "Q3_K_S, Q3_K_M, Q3_K_L, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M");
}

TEST(QuantMixtureTest, Q4KMOnADenseModelRaisesAttnVAndFfnDownIn14Of28Layers) {
  const std::vector<TensorSpec> layout = Layout("r1-distill-qwen-1.5b");
  const std::map<std::string, DType> types =
      Choose(layout, MixturePolicy(QuantMixture::kQ4_K_M, kQwen15b));
  // llama-quantize's Q4_K_M of this model raises attn_v and ffn_down in these 14 layers: the
  // first and last eighth and every third layer between.
  const std::set<int> raised_layers = {0, 1, 2, 5, 8, 11, 14, 17, 20, 23, 24, 25, 26, 27};
  EXPECT_EQ(types.at("output.weight"), DType::kQ6_K);
  EXPECT_EQ(types.at("token_embd.weight"), DType::kQ4_K);
  EXPECT_EQ(types.at("output_norm.weight"), DType::kF32);
  for (int layer = 0; layer < 28; ++layer) {
    SCOPED_TRACE(layer);
    const DType raised = raised_layers.contains(layer) ? DType::kQ6_K : DType::kQ4_K;
    EXPECT_EQ(types.at(Blk(layer, "attn_v")), raised);
    EXPECT_EQ(types.at(Blk(layer, "ffn_down")), raised);
    for (const char* base : {"attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up"}) {
      EXPECT_EQ(types.at(Blk(layer, base)), DType::kQ4_K) << base;
    }
    EXPECT_EQ(types.at("blk." + std::to_string(layer) + ".attn_q.bias"), DType::kF32);
  }
}

// The other mixtures on the same model, tensor by tensor (layer -1: not a layer's tensor):
// Q3_K_M raises attn_v in the first two layers and ffn_down below 28/16 = 1 to Q5_K, the rest
// of them and attn_output to Q4_K; Q4_K_S raises attn_v in the first four layers and ffn_down
// below 28/8 = 3 to Q5_K; Q5_K_S raises nothing but the output; Q3_K_L gives attn_v,
// attn_output and ffn_down Q5_K.
TEST(QuantMixtureTest, OtherMixturesOnADenseModel) {
  struct Case {
    QuantMixture mixture;
    DType want;
    int layer;
    const char* base;
  };
  const Case cases[] = {
      {QuantMixture::kQ3_K_M, DType::kQ5_K, 0, "attn_v"},
      {QuantMixture::kQ3_K_M, DType::kQ5_K, 1, "attn_v"},
      {QuantMixture::kQ3_K_M, DType::kQ4_K, 2, "attn_v"},
      {QuantMixture::kQ3_K_M, DType::kQ4_K, 27, "attn_v"},
      {QuantMixture::kQ3_K_M, DType::kQ5_K, 0, "ffn_down"},
      {QuantMixture::kQ3_K_M, DType::kQ4_K, 1, "ffn_down"},
      {QuantMixture::kQ3_K_M, DType::kQ4_K, 5, "attn_output"},
      {QuantMixture::kQ3_K_M, DType::kQ3_K, 5, "attn_q"},
      {QuantMixture::kQ3_K_M, DType::kQ6_K, -1, "output"},
      {QuantMixture::kQ4_K_S, DType::kQ5_K, 3, "attn_v"},
      {QuantMixture::kQ4_K_S, DType::kQ4_K, 4, "attn_v"},
      {QuantMixture::kQ4_K_S, DType::kQ5_K, 2, "ffn_down"},
      {QuantMixture::kQ4_K_S, DType::kQ4_K, 3, "ffn_down"},
      {QuantMixture::kQ5_K_S, DType::kQ5_K, 0, "attn_v"},
      {QuantMixture::kQ5_K_S, DType::kQ5_K, 0, "ffn_down"},
      {QuantMixture::kQ5_K_S, DType::kQ6_K, -1, "output"},
      {QuantMixture::kQ3_K_L, DType::kQ5_K, 9, "attn_v"},
      {QuantMixture::kQ3_K_L, DType::kQ5_K, 9, "attn_output"},
      {QuantMixture::kQ3_K_L, DType::kQ5_K, 9, "ffn_down"},
      {QuantMixture::kQ3_K_L, DType::kQ3_K, 9, "ffn_up"},
  };
  const std::vector<TensorSpec> layout = Layout("r1-distill-qwen-1.5b");
  for (const Case& c : cases) {
    const std::string name = c.layer < 0 ? std::string(c.base) + ".weight" : Blk(c.layer, c.base);
    SCOPED_TRACE(std::string(GetQuantMixtureInfo(c.mixture).name) + " " + name);
    EXPECT_EQ(Choose(layout, MixturePolicy(c.mixture, kQwen15b)).at(name), c.want);
  }
}

// An MoE model's ffn_down layers come from the names; every ffn_down there (dense, experts,
// shared) is raised together. V2-Lite: 27 layers, split MLA (no attn_v to raise).
TEST(QuantMixtureTest, Q4KMOnV2LiteRaisesEveryFfnDownOfTheLayer) {
  const std::vector<TensorSpec> layout = Layout("v2-lite");
  const MixtureModel v2_lite{
      .arch = ModelArch::kDeepseek2, .layers = 27, .heads = 16, .kv_heads = 1, .experts = 64};
  const std::map<std::string, DType> types =
      Choose(layout, MixturePolicy(QuantMixture::kQ4_K_M, v2_lite));
  const std::set<int> raised = {0, 1, 2, 5, 8, 11, 14, 17, 20, 23, 24, 25, 26};
  // Layer 0 is dense (rows of 10944: Q6_K -> Q8_0, Q4_K -> Q5_0).
  EXPECT_EQ(types.at(Blk(0, "ffn_down")), DType::kQ8_0);
  for (int layer = 1; layer < 27; ++layer) {
    SCOPED_TRACE(layer);
    const bool more = raised.contains(layer);
    // Experts' rows of 1408 fall back; the shared experts' 2816 = 11 x 256 hold Q6_K.
    EXPECT_EQ(types.at(Blk(layer, "ffn_down_exps")), more ? DType::kQ8_0 : DType::kQ5_0);
    EXPECT_EQ(types.at(Blk(layer, "ffn_down_shexp")), more ? DType::kQ6_K : DType::kQ4_K);
    EXPECT_EQ(types.at(Blk(layer, "ffn_up_exps")), DType::kQ4_K);
    EXPECT_EQ(types.at(Blk(layer, "attn_v_b")), DType::kQ4_K);
    EXPECT_EQ(types.at(Blk(layer, "attn_k_b")), DType::kQ5_0);  // rows of 128
    EXPECT_EQ(types.at(Blk(layer, "ffn_gate_inp")), DType::kF32);
  }
  EXPECT_EQ(types.at("output.weight"), DType::kQ6_K);
}

// Visiting order is llama-quantize's, not the file's: the same tensors in any order get the
// same types, and layer 10 counts after layer 9, not after layer 1.
TEST(QuantMixtureTest, CountsInLlamaQuantizeOrderWhateverTheFileOrder) {
  const std::vector<std::string_view> names = {"blk.10.b", "blk.2.a", "output.weight",
                                               "blk.2.-",  "blk.1.x", "token_embd.weight"};
  const std::vector<size_t> order = LlamaQuantizeOrder(names);
  EXPECT_EQ(order, (std::vector<size_t>{2, 5, 4, 3, 1, 0}));

  std::vector<TensorSpec> layout = Layout("r1-distill-qwen-1.5b");
  const TensorTypePolicy policy = MixturePolicy(QuantMixture::kQ4_K_M, kQwen15b);
  const std::map<std::string, DType> in_order = Choose(layout, policy);
  std::reverse(layout.begin(), layout.end());
  std::rotate(layout.begin(), layout.begin() + 7, layout.end());
  EXPECT_EQ(Choose(layout, policy), in_order);
}

// llama.cpp's exceptions: a model with exactly 8 experts stores attn_v and attn_k in Q8_0 and
// attn_output in Q5_K; a 70B-class llama (80 layers, grouped KV heads) raises Q4_K attn_v to
// Q5_K.
TEST(QuantMixtureTest, EightExpertAndSeventyBExceptions) {
  std::vector<TensorSpec> layout;
  for (int layer = 0; layer < 80; ++layer) {
    for (const char* base : {"attn_v", "attn_k", "attn_output", "attn_q"}) {
      layout.push_back({.gguf_name = Blk(layer, base), .ne = {8192, 1024}});
    }
  }
  MixtureModel model{.arch = ModelArch::kLlama, .layers = 80, .heads = 64, .kv_heads = 8};
  std::map<std::string, DType> types = Choose(layout, MixturePolicy(QuantMixture::kQ4_K_M, model));
  EXPECT_EQ(types.at(Blk(0, "attn_v")), DType::kQ6_K);   // MoreBits
  EXPECT_EQ(types.at(Blk(12, "attn_v")), DType::kQ6_K);  // MoreBits: (12 - 80/8) % 3 == 2
  EXPECT_EQ(types.at(Blk(11, "attn_v")), DType::kQ5_K);  // Q4_K raised for 70B
  EXPECT_EQ(types.at(Blk(11, "attn_k")), DType::kQ4_K);
  model.kv_heads = 64;  // no grouped heads: a 65B-class model, no exception
  types = Choose(layout, MixturePolicy(QuantMixture::kQ4_K_M, model));
  EXPECT_EQ(types.at(Blk(11, "attn_v")), DType::kQ4_K);
  model.arch = ModelArch::kQwen2;  // qwen2 at 80 layers is 70B-class whatever its heads
  types = Choose(layout, MixturePolicy(QuantMixture::kQ3_K_S, model));
  EXPECT_EQ(types.at(Blk(11, "attn_v")), DType::kQ5_K);
  EXPECT_EQ(types.at(Blk(11, "attn_q")), DType::kQ3_K);

  model = {.arch = ModelArch::kDeepseek, .layers = 80, .heads = 64, .kv_heads = 64, .experts = 8};
  types = Choose(layout, MixturePolicy(QuantMixture::kQ4_K_M, model));
  EXPECT_EQ(types.at(Blk(11, "attn_v")), DType::kQ8_0);
  EXPECT_EQ(types.at(Blk(11, "attn_k")), DType::kQ8_0);
  EXPECT_EQ(types.at(Blk(11, "attn_output")), DType::kQ5_K);
  types = Choose(layout, MixturePolicy(QuantMixture::kQ5_K_M, model));
  EXPECT_EQ(types.at(Blk(11, "attn_output")), DType::kQ5_K);  // the base type: not raised
  EXPECT_EQ(types.at(Blk(11, "attn_q")), DType::kQ5_K);
}

// A user's rule wins over the mixture, and llama.cpp does not count the tensors rules decide:
// with blk.0's attn_v taken by a rule, Q3_K_M's two Q5_K attn_v are layers 1 and 2.
TEST(QuantMixtureTest, RulesWinAndAreNotCounted) {
  const std::vector<TensorSpec> layout = Layout("r1-distill-qwen-1.5b");
  TensorTypePolicy policy = MixturePolicy(QuantMixture::kQ3_K_M, kQwen15b);
  policy.rules = *ParseTensorTypeRules(std::vector<std::string>{"q8_0:blk.0.attn_v"});
  const StatusOr<std::vector<TensorTypeChoice>> choices = ChooseTensorTypes(layout, policy);
  ASSERT_TRUE(choices.ok());
  std::map<std::string, TensorTypeChoice> by_name;
  for (size_t i = 0; i < layout.size(); ++i) by_name[layout[i].gguf_name] = (*choices)[i];
  EXPECT_EQ(by_name.at(Blk(0, "attn_v")).type, DType::kQ8_0);
  EXPECT_NE(by_name.at(Blk(0, "attn_v")).rule, nullptr);
  EXPECT_FALSE(by_name.at(Blk(0, "attn_v")).raised);
  EXPECT_EQ(by_name.at(Blk(1, "attn_v")).type, DType::kQ5_K);
  EXPECT_TRUE(by_name.at(Blk(1, "attn_v")).raised);
  EXPECT_EQ(by_name.at(Blk(2, "attn_v")).type, DType::kQ5_K);
  EXPECT_EQ(by_name.at(Blk(3, "attn_v")).type, DType::kQ4_K);
  EXPECT_FALSE(by_name.at(Blk(3, "attn_q")).raised);
}

// Without output.weight the embedding is the output (tied), and llama.cpp gives it Q6_K.
TEST(QuantMixtureTest, TiedEmbeddingTakesTheOutputType) {
  std::vector<TensorSpec> layout = Layout("r1-distill-qwen-1.5b");
  std::erase_if(layout, [](const TensorSpec& s) { return s.gguf_name == "output.weight"; });
  const std::map<std::string, DType> types =
      Choose(layout, MixturePolicy(QuantMixture::kQ4_K_M, kQwen15b));
  EXPECT_EQ(types.at("token_embd.weight"), DType::kQ6_K);
}

TEST(QuantMixtureTest, ErrorsNameTheProblem) {
  std::vector<TensorSpec> layout = Layout("v2-lite");
  MixtureModel model{.arch = ModelArch::kDeepseek2, .layers = 27, .experts = 64};
  TensorTypePolicy policy = MixturePolicy(QuantMixture::kQ4_K_M, model);
  policy.pure = true;
  StatusOr<std::vector<TensorTypeChoice>> choices = ChooseTensorTypes(layout, policy);
  ASSERT_FALSE(choices.ok());
  EXPECT_NE(choices.status().message().find("Q4_K_M is a mixture"), std::string::npos);

  policy.pure = false;
  policy.requested = DType::kQ5_K;
  choices = ChooseTensorTypes(layout, policy);
  ASSERT_FALSE(choices.ok());
  EXPECT_NE(choices.status().message().find("built on q4_K, not q5_K"), std::string::npos);

  policy.requested = DType::kQ4_K;
  policy.model.layers = 12;  // metadata that disagrees with the tensors
  choices = ChooseTensorTypes(layout, policy);
  ASSERT_FALSE(choices.ok());
  EXPECT_NE(choices.status().message().find("tensor blk.12.ffn_down_exps.weight: no layer in "
                                            "[0, 12)"),
            std::string::npos)
      << choices.status().message();
}

TEST(QuantMixtureTest, ModelFactsFromMetadata) {
  std::vector<GgufKeyValue> metadata = {
      {"general.architecture", GgufValue::String("deepseek2")},
      {"deepseek2.block_count", GgufValue::U32(61)},
      {"deepseek2.attention.head_count", GgufValue::U32(128)},
      {"deepseek2.expert_count", GgufValue::U32(256)},
  };
  StatusOr<MixtureModel> model = MixtureModelFromMetadata(metadata);
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->arch, ModelArch::kDeepseek2);
  EXPECT_EQ(model->layers, 61);
  EXPECT_EQ(model->heads, 128);
  EXPECT_EQ(model->kv_heads, 128);  // absent: the head count
  EXPECT_EQ(model->experts, 256);

  metadata[1].value = GgufValue::String("61");
  model = MixtureModelFromMetadata(metadata);
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("deepseek2.block_count"), std::string::npos);
  metadata.erase(metadata.begin());
  model = MixtureModelFromMetadata(metadata);
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("general.architecture"), std::string::npos);
}

}  // namespace
}  // namespace dsinfer
