// ChatTemplate on real model templates: DeepSeek-V3's tokenizer_config.json (fetched by
// scripts/fetch-test-assets.sh; skipped when absent) and the templates committed under
// tests/data/chat_templates. The full byte-for-byte comparison against Python's Jinja2 on
// 60 conversations is the ctest chat_template_reference (tests/chat_template/).
#include "tokenizer/chat_template.h"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace dsinfer::tokenizer {
namespace {

constexpr const char* kDataDir = DSINFER_TEST_DATA_DIR;
constexpr const char* kBos = "<｜begin▁of▁sentence｜>";
constexpr const char* kEos = "<｜end▁of▁sentence｜>";

nlohmann::ordered_json ParseJson(const char* text) { return nlohmann::ordered_json::parse(text); }

TEST(ChatTemplateTest, DeepSeekV3RealTemplate) {
  const std::string path =
      std::string(kDataDir) + "/../../.cache/deepseek-v3/tokenizer_config.json";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " absent: run fetch-test-assets.sh";
  const StatusOr<ChatTemplateSource> source = LoadChatTemplateSource(path);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  EXPECT_EQ(source->bos_token, kBos);
  EXPECT_EQ(source->eos_token, kEos);
  const StatusOr<ChatTemplate> tmpl = ChatTemplate::Parse(source->source);
  ASSERT_TRUE(tmpl.ok()) << tmpl.status().ToString();

  ChatTemplateInputs inputs{.messages = ParseJson(R"([
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": "Hi"},
      {"role": "assistant", "content": "Hello!"},
      {"role": "user", "content": "2+2?"}])"),
                            .add_generation_prompt = true,
                            .bos_token = source->bos_token,
                            .eos_token = source->eos_token};
  StatusOr<std::string> text = tmpl->Render(inputs);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, std::string(kBos) + "Be brief.<｜User｜>Hi<｜Assistant｜>Hello!" + kEos +
                       "<｜User｜>2+2?<｜Assistant｜>");

  // A tool call and its output; no generation prompt after a tool turn's end.
  inputs.messages = ParseJson(R"([
      {"role": "user", "content": "Weather?"},
      {"role": "assistant", "content": null, "tool_calls": [{"type": "function",
        "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
      {"role": "tool", "content": "sunny"}])");
  text = tmpl->Render(inputs);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text,
            std::string(kBos) +
                "<｜User｜>Weather?<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>"
                "function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\"}\n```"
                "<｜tool▁call▁end｜><｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>sunny"
                "<｜tool▁output▁end｜><｜tool▁outputs▁end｜>");
}

TEST(ChatTemplateTest, R1DistillOpensThinkAndDropsReasoningFromHistory) {
  const StatusOr<ChatTemplateSource> source = LoadChatTemplateSource(
      std::string(kDataDir) + "/chat_templates/deepseek_r1_distill_qwen.jinja");
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  const StatusOr<std::string> text = RenderChatTemplate(
      source->source, {.messages = ParseJson(R"([{"role": "user", "content": "Q1"},
          {"role": "assistant", "content": "<think>\nhmm\n</think>\n\nA1"},
          {"role": "user", "content": "Q2"}])"),
                       .add_generation_prompt = true,
                       .bos_token = kBos,
                       .eos_token = kEos});
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, std::string(kBos) + "<｜User｜>Q1<｜Assistant｜>\n\nA1" + kEos +
                       "<｜User｜>Q2<｜Assistant｜><think>\n");
}

TEST(ChatTemplateTest, ToolsReachTheTemplateAndRaiseExceptionIsAnError) {
  const StatusOr<ChatTemplateSource> source =
      LoadChatTemplateSource(std::string(kDataDir) + "/chat_templates/llama3_1_instruct.jinja");
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  ChatTemplateInputs inputs{
      .messages = ParseJson(R"([{"role": "user", "content": "Weather in Paris?"}])"),
      .add_generation_prompt = true,
      .bos_token = "<|begin_of_text|>",
      .tools = ParseJson(R"([{"type": "function", "function": {"name": "get_weather"}}])")};
  StatusOr<std::string> text = RenderChatTemplate(source->source, inputs);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_NE(text->find("Environment: ipython"), std::string::npos);
  EXPECT_NE(text->find("\"name\": \"get_weather\""), std::string::npos);  // tojson(indent=4)

  inputs.messages = ParseJson(R"([{"role": "user", "content": "x"}, {"role": "assistant",
      "tool_calls": [{"function": {"name": "a", "arguments": {}}},
                     {"function": {"name": "b", "arguments": {}}}]}])");
  text = RenderChatTemplate(source->source, inputs);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(text.status().message().find("only supports single tool-calls"), std::string::npos)
      << text.status().ToString();
}

TEST(ChatTemplateTest, TokenizerConfigForms) {
  // A list of named templates (the "default" one is used) and special tokens as objects.
  StatusOr<ChatTemplateSource> source = ChatTemplateFromTokenizerConfig(
      R"({"chat_template": [{"name": "tool_use", "template": "T"},
                            {"name": "default", "template": "D{{ bos_token }}"}],
          "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>"})",
      "cfg");
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  EXPECT_EQ(source->source, "D{{ bos_token }}");
  EXPECT_EQ(source->bos_token, "<s>");
  EXPECT_EQ(source->eos_token, "</s>");

  EXPECT_EQ(ChatTemplateFromTokenizerConfig(R"({"bos_token": "<s>"})", "cfg").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ChatTemplateFromTokenizerConfig("not json", "cfg").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadChatTemplateSource(std::string(kDataDir) + "/no/such/file.jinja").status().code(),
            StatusCode::kNotFound);
}

TEST(ChatTemplateTest, VariablesAsTransformersPassesThem) {
  // tools and documents are defined and None when absent; extra variables override.
  const StatusOr<std::string> text = RenderChatTemplate(
      "{{ tools is none }} {{ documents is none }} {{ bos_token is defined }} {{ custom }}"
      "{{ add_generation_prompt }}",
      {.messages = ParseJson("[]"), .extra = ParseJson(R"({"custom": "C"})")});
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, "True True False CFalse");
}

}  // namespace
}  // namespace dsinfer::tokenizer
