// generation_config.json: values, absence, nulls and bad fields.
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

// --- generation_config.json ---

TEST(GenerationConfigTest, ReadsR1Defaults) {
  auto g = LoadGenerationConfig(HfDir() + "/deepseek_v3");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_TRUE(g->has_value());
  const GenerationConfig& c = **g;
  EXPECT_EQ(c.bos_token_id, 0);
  EXPECT_THAT(c.eos_token_ids, ElementsAre(1));
  EXPECT_EQ(c.do_sample, true);
  EXPECT_EQ(c.temperature, 0.6);
  EXPECT_EQ(c.top_p, 0.95);
  EXPECT_FALSE(c.top_k.has_value());
  EXPECT_FALSE(c.max_new_tokens.has_value());
  EXPECT_FALSE(c.repetition_penalty.has_value());
}

TEST(GenerationConfigTest, AbsentFileIsNotAnError) {
  auto g = LoadGenerationConfig(HfDir() + "/deepseek_v2_lite");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_FALSE(g->has_value());
}

TEST(GenerationConfigTest, AllFieldsAndNulls) {
  auto g = ParseGenerationConfig(R"({"bos_token_id": 1, "eos_token_id": [2, 3],
      "pad_token_id": null, "temperature": 0, "top_p": 1, "top_k": 50, "do_sample": false,
      "max_length": 4096, "max_new_tokens": 512, "repetition_penalty": 1.1, "other": "x"})",
                                 "gen.json");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->bos_token_id, 1);
  EXPECT_THAT(g->eos_token_ids, ElementsAre(2, 3));
  EXPECT_FALSE(g->pad_token_id.has_value());
  EXPECT_EQ(g->temperature, 0.0);
  EXPECT_EQ(g->top_p, 1.0);
  EXPECT_EQ(g->top_k, 50);
  EXPECT_EQ(g->do_sample, false);
  EXPECT_EQ(g->max_length, 4096);
  EXPECT_EQ(g->max_new_tokens, 512);
  EXPECT_EQ(g->repetition_penalty, 1.1);
}

TEST(GenerationConfigTest, BadValuesNameTheField) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {R"({"temperature": "hot"})", "temperature: must be a number"},
      {R"({"temperature": -0.5})", "temperature: -0.5 is negative"},
      {R"({"top_p": 1.5})", "top_p: 1.5 is not in (0, 1]"},
      {R"({"top_p": 0})", "top_p: 0 is not in (0, 1]"},
      {R"({"top_k": -1})", "top_k: -1 is negative"},
      {R"({"do_sample": "yes"})", "do_sample: must be true or false"},
      {R"({"max_new_tokens": 0})", "max_new_tokens: 0 is not positive"},
      {R"({"max_length": 1.5})", "max_length: must be an integer"},
      {R"({"repetition_penalty": 0})", "repetition_penalty: 0 is not positive"},
      {R"({"eos_token_id": [1, null]})", "eos_token_id: must be an integer or a list"},
      {R"({"eos_token_id": -2})", "eos_token_id: -2 is negative"},
      {R"({"bos_token_id": -1})", "bos_token_id: -1 is negative"},
      {"[]", "not a JSON object"},
      {"{", "not valid JSON"},
  };
  for (const auto& [json, expect] : cases) {
    SCOPED_TRACE(json);
    auto g = ParseGenerationConfig(json, "gen.json");
    ASSERT_FALSE(g.ok());
    EXPECT_THAT(std::string(g.status().message()), ::testing::StartsWith("gen.json: "));
    EXPECT_THAT(std::string(g.status().message()), HasSubstr(expect));
  }
}

}  // namespace
}  // namespace dsinfer
