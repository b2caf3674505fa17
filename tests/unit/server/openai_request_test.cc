// ParseChatRequest / ParseCompletionRequest against DeepSeek-V3's real tokenizer and chat
// template: every field's type and range errors (400 naming the field), the model check (404),
// context-length limits, prompt shapes, and the rendered prompt.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/openai_api.h"
#include "test_model.h"

namespace dsinfer::server {
namespace {

using testing::kBos;
using testing::V3Dir;
using testing::V3Model;
using Json = nlohmann::ordered_json;

std::vector<int32_t> Encode(const ServedModel& model, const std::string& text, bool add_bos) {
  StatusOr<std::vector<int32_t>> ids =
      model.tokenizer->Encode(text, {.parse_special = true, .add_bos = add_bos});
  EXPECT_TRUE(ids.ok()) << ids.status().ToString();
  return ids.ok() ? *ids : std::vector<int32_t>{};
}

// A chat body with one user message plus `extra` fields (a JSON object's members, "" for none).
std::string ChatBody(const std::string& extra) {
  return R"({"model": "deepseek-v3", "messages": [{"role": "user", "content": "Hi"}])" +
         (extra.empty() ? std::string() : ", " + extra) + "}";
}

std::string CompletionBody(const std::string& extra) {
  return R"({"model": "deepseek-v3", "prompt": "Once upon a time")" +
         (extra.empty() ? std::string() : ", " + extra) + "}";
}

struct BadCase {
  std::string fields;   // members added to a valid body
  std::string param;    // the field the error must name
  std::string message;  // a substring of the message
};

void ExpectBadRequest(const ApiOr<ParsedRequest>& result, const BadCase& c) {
  ASSERT_FALSE(result.ok()) << c.fields;
  EXPECT_EQ(result.error().http_status, 400) << c.fields;
  EXPECT_EQ(result.error().type, "invalid_request_error") << c.fields;
  EXPECT_EQ(result.error().param, c.param) << c.fields << " -> " << result.error().message;
  EXPECT_NE(result.error().message.find(c.message), std::string::npos)
      << c.fields << " -> " << result.error().message;
}

// Fields both endpoints read, with a wrong type or a value out of range.
const std::vector<BadCase>& CommonBadCases() {
  static const std::vector<BadCase> kCases = {
      {R"("temperature": "hot")", "temperature", "'temperature' must be a number"},
      {R"("temperature": 2.5)", "temperature", "'temperature' must be in [0, 2]"},
      {R"("temperature": -0.1)", "temperature", "must be in [0, 2]"},
      {R"("top_p": 0)", "top_p", "'top_p' must be in (0, 1]"},
      {R"("top_p": 1.01)", "top_p", "'top_p' must be in (0, 1]"},
      {R"("top_p": [1])", "top_p", "'top_p' must be a number"},
      {R"("top_k": 1.5)", "top_k", "'top_k' must be an integer"},
      {R"("top_k": "5")", "top_k", "'top_k' must be an integer"},
      {R"("top_k": -2)", "top_k", "'top_k' must be in [-1,"},
      {R"("min_p": 1.5)", "min_p", "'min_p' must be in [0, 1]"},
      {R"("presence_penalty": 2.5)", "presence_penalty", "must be in [-2, 2]"},
      {R"("presence_penalty": true)", "presence_penalty", "must be a number"},
      {R"("frequency_penalty": -3)", "frequency_penalty", "must be in [-2, 2]"},
      {R"("repetition_penalty": 0)", "repetition_penalty", "must be in (0,"},
      {R"("seed": "42")", "seed", "'seed' must be an integer"},
      {R"("seed": 1e30)", "seed", "'seed' must be an integer"},
      {R"("stop": 5)", "stop", "'stop' must be a string or an array of strings"},
      {R"("stop": ["a", 1])", "stop[1]", "'stop[1]' must be a string"},
      {R"("stop": "")", "stop", "'stop' must not be empty"},
      {R"("stop": ["a", ""])", "stop[1]", "must not be empty"},
      {R"("stop": ["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17"])",
       "stop", "at most 16 strings"},
      {R"("stop_token_ids": [1, -1])", "stop_token_ids[1]", "must be a token id in [0, 129280)"},
      {R"("stop_token_ids": 7)", "stop_token_ids", "must be an array of integers"},
      {R"("ignore_eos": "no")", "ignore_eos", "'ignore_eos' must be a boolean"},
      {R"("n": 2)", "n", "'n' must be 1"},
      {R"("n": "1")", "n", "'n' must be an integer"},
      {R"("stream": "yes")", "stream", "'stream' must be a boolean"},
      {R"("stream_options": {"include_usage": true})", "stream_options",
       "only allowed when 'stream' is true"},
      {R"("stream": true, "stream_options": 1)", "stream_options", "must be an object"},
      {R"("stream": true, "stream_options": {"include_usage": 1})", "stream_options.include_usage",
       "'stream_options.include_usage' must be a boolean"},
      {R"("logit_bias": {"100": 5})", "logit_bias", "is not supported"},
      {R"("logit_bias": [1])", "logit_bias", "must be an object"},
      {R"("user": 5)", "user", "'user' must be a string"},
      {R"("max_tokens": 0)", "max_tokens", "'max_tokens' must be in [1,"},
      {R"("max_tokens": "10")", "max_tokens", "'max_tokens' must be an integer"},
      {R"("max_tokens": 10.5)", "max_tokens", "'max_tokens' must be an integer"},
  };
  return kCases;
}

TEST(OpenAiRequestTest, CommonFieldErrorsNameTheField) {
  DSI_REQUIRE_V3_ASSETS(assets);
  const ServedModel model = V3Model(*assets);
  for (const BadCase& c : CommonBadCases()) {
    ExpectBadRequest(ParseChatRequest(ChatBody(c.fields), model), c);
    ExpectBadRequest(ParseCompletionRequest(CompletionBody(c.fields), model), c);
  }
}

TEST(OpenAiRequestTest, ChatFieldErrorsNameTheField) {
  DSI_REQUIRE_V3_ASSETS(assets);
  const ServedModel model = V3Model(*assets);
  const std::vector<BadCase> cases = {
      {R"("max_completion_tokens": -1)", "max_completion_tokens", "must be in [1,"},
      {R"("logprobs": 1)", "logprobs", "'logprobs' must be a boolean"},
      {R"("logprobs": true, "top_logprobs": 21)", "top_logprobs", "must be in [0, 20]"},
      {R"("top_logprobs": 2)", "top_logprobs", "requires 'logprobs' to be true"},
      {R"("response_format": {"type": "json_object"})", "response_format.type", "is not supported"},
      {R"("tool_choice": "required")", "tool_choice", "forced tool calls are not supported"},
      {R"("tools": {"type": "function"})", "tools", "'tools' must be an array"},
      {R"("tools": [1])", "tools[0]", "must be an object"},
      {R"("chat_template_kwargs": [])", "chat_template_kwargs", "must be an object"},
  };
  for (const BadCase& c : cases) ExpectBadRequest(ParseChatRequest(ChatBody(c.fields), model), c);
}

TEST(OpenAiRequestTest, MessageErrorsNameTheMessageField) {
  DSI_REQUIRE_V3_ASSETS(assets);
  const ServedModel model = V3Model(*assets);
  const std::vector<BadCase> cases = {
      {R"({"model": "deepseek-v3"})", "messages", "'messages' is required"},
      {R"({"model": "deepseek-v3", "messages": {}})", "messages", "must be an array"},
      {R"({"model": "deepseek-v3", "messages": []})", "messages", "at least one message"},
      {R"({"model": "deepseek-v3", "messages": ["hi"]})", "messages[0]",
       "'messages[0]' must be an object, got \"hi\""},
      {R"({"model": "deepseek-v3", "messages": [{"content": "x"}]})", "messages[0].role",
       "is required"},
      {R"({"model": "deepseek-v3", "messages": [{"role": "robot", "content": "x"}]})",
       "messages[0].role", "must be one of"},
      {R"({"model": "deepseek-v3", "messages": [{"role": "user"}]})", "messages[0].content",
       "is required"},
      {R"({"model": "deepseek-v3", "messages": [{"role": "user", "content": 5}]})",
       "messages[0].content", "must be a string or an array of text parts"},
      {R"({"model": "deepseek-v3", "messages": [{"role": "user", "content": "a"},
          {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]})",
       "messages[1].content[0].type", "\"image_url\" is not supported"},
      {R"({"model": "deepseek-v3", "messages": [{"role": "user", "content": [{"type": "text"}]}]})",
       "messages[0].content[0].text", "must be a string"},
      {R"({"model": "deepseek-v3", "messages": [{"role": "user", "content": "x",
          "tool_calls": []}]})",
       "messages[0].tool_calls", "only allowed in assistant messages"},
      {R"({"model": "deepseek-v3", "messages": [{"role": "user", "content": "x", "name": 3}]})",
       "messages[0].name", "'messages[0].name' must be a string"},
  };
  for (const BadCase& c : cases) ExpectBadRequest(ParseChatRequest(c.fields, model), c);
}

TEST(OpenAiRequestTest, CompletionFieldErrorsNameTheField) {
  DSI_REQUIRE_V3_ASSETS(assets);
  const ServedModel model = V3Model(*assets);
  const std::vector<BadCase> cases = {
      {R"("logprobs": 6)", "logprobs", "'logprobs' must be in [0, 5]"},
      {R"("logprobs": true)", "logprobs", "'logprobs' must be an integer"},
      {R"("echo": true)", "echo", "not supported"},
      {R"("best_of": 2)", "best_of", "must be 1"},
      {R"("suffix": "end")", "suffix", "not supported"},
  };
  for (const BadCase& c : cases) {
    ExpectBadRequest(ParseCompletionRequest(CompletionBody(c.fields), model), c);
  }
  const std::vector<BadCase> prompts = {
      {R"({"model": "deepseek-v3"})", "prompt", "'prompt' is required"},
      {R"({"model": "deepseek-v3", "prompt": 5})", "prompt", "must be a string, an array"},
      {R"({"model": "deepseek-v3", "prompt": []})", "prompt", "must not be empty"},
      {R"({"model": "deepseek-v3", "prompt": ["a", "b"]})", "prompt", "holds 2 prompts"},
      {R"({"model": "deepseek-v3", "prompt": [1, "b"]})", "prompt[1]", "must be an integer"},
      {R"({"model": "deepseek-v3", "prompt": [1, 129280]})", "prompt[1]",
       "must be a token id in [0, 129280), got 129280"},
      {R"({"model": "deepseek-v3", "prompt": [[5, -3]]})", "prompt[0][1]", "got -3"},
      {R"({"model": "deepseek-v3", "prompt": [{"a": 1}]})", "prompt", "must be a string"},
  };
  for (const BadCase& c : prompts) ExpectBadRequest(ParseCompletionRequest(c.fields, model), c);
}

TEST(OpenAiRequestTest, BodyThatIsNotAJsonObject) {
  DSI_REQUIRE_V3_ASSETS(assets);
  const ServedModel model = V3Model(*assets);
  for (const std::string& body :
       {std::string("{\"model\": "), std::string("[1, 2]"), std::string(""),
        std::string("{\"model\": \"\xFF\"}"), std::string(100, '[') + std::string(100, ']')}) {
    for (ApiKind kind : {ApiKind::kChat, ApiKind::kCompletion}) {
      const ApiOr<ParsedRequest> result = ParseRequest(kind, body, model);
      ASSERT_FALSE(result.ok()) << body;
      EXPECT_EQ(result.error().http_status, 400);
      EXPECT_FALSE(result.error().message.empty());
    }
  }
}

TEST(OpenAiRequestTest, UnknownModelIs404InOpenAisShape) {
  DSI_REQUIRE_V3_ASSETS(assets);
  const ServedModel model = V3Model(*assets);
  const ApiOr<ParsedRequest> result = ParseChatRequest(
      R"({"model": "gpt-4", "messages": [{"role": "user", "content": "x"}]})", model);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().http_status, 404);
  EXPECT_EQ(Json::parse(ErrorJson(result.error())), Json::parse(R"({"error": {
      "message": "The model `gpt-4` does not exist.", "type": "invalid_request_error",
      "param": "model", "code": "model_not_found"}})"));
  ExpectBadRequest(ParseCompletionRequest(R"({"prompt": "x"})", model),
                   {"", "model", "'model' is required"});
  ExpectBadRequest(ParseCompletionRequest(R"({"model": 7, "prompt": "x"})", model),
                   {"", "model", "'model' must be a string"});
}

TEST(OpenAiRequestTest, ChatRendersTheV3TemplateWithBosAndRoles) {
  DSI_REQUIRE_V3_ASSETS(assets);
  const ServedModel model = V3Model(*assets);
  const ApiOr<ParsedRequest> result = ParseChatRequest(R"({
      "model": "deepseek-v3", "user": "alice", "unknown_field": {"x": 1},
      "messages": [{"role": "developer", "content": "Be brief."},
                   {"role": "user", "content": [{"type": "text", "text": "Hi"},
                                                {"type": "text", "text": "there"}]}]})",
                                                       model);
  ASSERT_TRUE(result.ok()) << result.error().message;
  const std::string expected = std::string(kBos) + "Be brief.<｜User｜>Hi\nthere<｜Assistant｜>";
  const std::vector<int32_t> ids = Encode(model, expected, /*add_bos=*/false);
  EXPECT_EQ(result->generation.prompt_token_ids, ids);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), model.tokenizer->bos_id());
  EXPECT_EQ(ids.back(), model.tokenizer->FindToken("<｜Assistant｜>"));
  // Exactly one BOS: the template writes it and none is added.
  EXPECT_NE(ids[1], model.tokenizer->bos_id());
  EXPECT_EQ(result->kind, ApiKind::kChat);
  EXPECT_EQ(result->model, "deepseek-v3");
  EXPECT_EQ(result->user, "alice");
  EXPECT_FALSE(result->stream);
  EXPECT_FALSE(result->logprobs);
  EXPECT_TRUE(result->generation.request_id.empty());
  // Defaults: OpenAI's sampling, max_tokens filling the context.
  const sampling::SamplingParams& p = result->generation.params;
  EXPECT_EQ(p.temperature, 1.0f);
  EXPECT_EQ(p.top_p, 1.0f);
  EXPECT_EQ(p.max_tokens, model.max_model_len - static_cast<int32_t>(ids.size()));
}

TEST(OpenAiRequestTest, ChatToolCallsReachTheTemplate) {
  DSI_REQUIRE_V3_ASSETS(assets);
  const ServedModel model = V3Model(*assets);
  const ApiOr<ParsedRequest> result = ParseChatRequest(R"({"model": "deepseek-v3",
      "tools": [{"type": "function", "function": {"name": "get_weather"}}],
      "tool_choice": "auto",
      "messages": [{"role": "user", "content": "Weather?"},
                   {"role": "assistant", "content": null, "tool_calls": [{"type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
                   {"role": "tool", "content": "sunny", "tool_call_id": "call_1"}]})",
                                                       model);
  ASSERT_TRUE(result.ok()) << result.error().message;
  const std::string expected =
      std::string(kBos) +
      "<｜User｜>Weather?<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>"
      "function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\"}\n```"
      "<｜tool▁call▁end｜><｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>sunny"
      "<｜tool▁output▁end｜><｜tool▁outputs▁end｜>";
  EXPECT_EQ(result->generation.prompt_token_ids, Encode(model, expected, false));
}

TEST(OpenAiRequestTest, SamplingFieldsReachTheParams) {
  DSI_REQUIRE_V3_ASSETS(assets);
  ServedModel model = V3Model(*assets);
  model.defaults.temperature = 0.6f;  // generation_config.json's, overridden below
  model.defaults.top_p = 0.95f;
  model.extra_stop_token_ids = {7};
  const ApiOr<ParsedRequest> result = ParseChatRequest(
      ChatBody(R"("temperature": 0.3, "top_k": 40, "min_p": 0.05, "presence_penalty": 0.5,
                  "frequency_penalty": -0.25, "repetition_penalty": 1.1, "seed": -12345678901,
                  "stop": ["\n\n", "END"], "stop_token_ids": [5], "ignore_eos": true,
                  "n": 1, "stream": true, "stream_options": {"include_usage": true},
                  "logprobs": true, "top_logprobs": 3, "max_tokens": 50,
                  "max_completion_tokens": 20.0, "logit_bias": {}, "response_format":
                  {"type": "text"}, "top_p": null)"),
      model);
  ASSERT_TRUE(result.ok()) << result.error().message;
  const sampling::SamplingParams& p = result->generation.params;
  EXPECT_FLOAT_EQ(p.temperature, 0.3f);
  EXPECT_FLOAT_EQ(p.top_p, 0.95f);  // null is absent: the model's default stays
  EXPECT_EQ(p.top_k, 40);
  EXPECT_FLOAT_EQ(p.min_p, 0.05f);
  EXPECT_FLOAT_EQ(p.presence_penalty, 0.5f);
  EXPECT_FLOAT_EQ(p.frequency_penalty, -0.25f);
  EXPECT_FLOAT_EQ(p.repetition_penalty, 1.1f);
  EXPECT_EQ(p.seed, -12345678901);
  EXPECT_EQ(p.stop, (std::vector<std::string>{"\n\n", "END"}));
  EXPECT_EQ(p.stop_token_ids, (std::vector<int32_t>{5, 7}));
  EXPECT_TRUE(p.ignore_eos);
  EXPECT_EQ(p.max_tokens, 20);  // max_completion_tokens wins
  EXPECT_TRUE(p.logprobs);
  EXPECT_EQ(p.top_logprobs, 3);
  EXPECT_TRUE(result->stream);
  EXPECT_TRUE(result->include_usage);
  EXPECT_TRUE(result->logprobs);

  const ApiOr<ParsedRequest> single =
      ParseCompletionRequest(CompletionBody(R"("stop": "###")"), model);
  ASSERT_TRUE(single.ok()) << single.error().message;
  EXPECT_EQ(single->generation.params.stop, (std::vector<std::string>{"###"}));
  EXPECT_FLOAT_EQ(single->generation.params.temperature, 0.6f);
}

TEST(OpenAiRequestTest, ContextLengthIsEnforcedLikeVllm) {
  DSI_REQUIRE_V3_ASSETS(assets);
  const ServedModel model = V3Model(*assets, /*max_model_len=*/32);
  const ApiOr<ParsedRequest> fits = ParseCompletionRequest(CompletionBody(""), model);
  ASSERT_TRUE(fits.ok());
  const auto prompt_len = static_cast<int32_t>(fits->generation.prompt_token_ids.size());
  EXPECT_EQ(fits->generation.params.max_tokens, 32 - prompt_len);

  const std::string exact = "\"max_tokens\": " + std::to_string(32 - prompt_len);
  ASSERT_TRUE(ParseCompletionRequest(CompletionBody(exact), model).ok());

  const std::string over = "\"max_tokens\": " + std::to_string(33 - prompt_len);
  const ApiOr<ParsedRequest> too_long = ParseCompletionRequest(CompletionBody(over), model);
  ExpectBadRequest(too_long, {over, "max_tokens", "maximum context length is 32 tokens"});
  EXPECT_EQ(too_long.error().code, "context_length_exceeded");

  const ApiOr<ParsedRequest> too_long_chat =
      ParseChatRequest(ChatBody(R"("max_completion_tokens": 1000)"), model);
  ExpectBadRequest(too_long_chat, {"", "max_completion_tokens", "maximum context length"});

  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += " word" + std::to_string(i);
  const ApiOr<ParsedRequest> long_prompt =
      ParseChatRequest(R"({"model": "deepseek-v3", "messages": [{"role": "user", "content": ")" +
                           long_text + "\"}]}",
                       model);
  ExpectBadRequest(long_prompt, {"", "messages", "input tokens"});
  EXPECT_EQ(long_prompt.error().code, "context_length_exceeded");
}

TEST(OpenAiRequestTest, CompletionPromptShapes) {
  DSI_REQUIRE_V3_ASSETS(assets);
  const ServedModel model = V3Model(*assets);
  // A text prompt gets the tokenizer's BOS (V3: add_bos_token true).
  const std::vector<int32_t> text_ids =
      Encode(model, "Once upon a time", model.tokenizer->add_bos());
  ASSERT_TRUE(model.tokenizer->add_bos());
  ASSERT_EQ(text_ids.front(), model.tokenizer->bos_id());
  const ApiOr<ParsedRequest> text = ParseCompletionRequest(CompletionBody(""), model);
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(text->generation.prompt_token_ids, text_ids);
  EXPECT_EQ(text->kind, ApiKind::kCompletion);

  const ApiOr<ParsedRequest> one_string =
      ParseCompletionRequest(R"({"model": "deepseek-v3", "prompt": ["Once upon a time"]})", model);
  ASSERT_TRUE(one_string.ok()) << one_string.error().message;
  EXPECT_EQ(one_string->generation.prompt_token_ids, text_ids);

  // Token ids go through untouched: no BOS added.
  const ApiOr<ParsedRequest> ids = ParseCompletionRequest(
      R"({"model": "deepseek-v3", "prompt": [100, 2000, 129279, 3.0]})", model);
  ASSERT_TRUE(ids.ok()) << ids.error().message;
  EXPECT_EQ(ids->generation.prompt_token_ids, (std::vector<int32_t>{100, 2000, 129279, 3}));
  const ApiOr<ParsedRequest> nested =
      ParseCompletionRequest(R"({"model": "deepseek-v3", "prompt": [[9, 8, 7]]})", model);
  ASSERT_TRUE(nested.ok()) << nested.error().message;
  EXPECT_EQ(nested->generation.prompt_token_ids, (std::vector<int32_t>{9, 8, 7}));

  const ApiOr<ParsedRequest> logprobs = ParseCompletionRequest(
      CompletionBody(R"("logprobs": 0, "echo": false, "best_of": 1)"), model);
  ASSERT_TRUE(logprobs.ok()) << logprobs.error().message;
  EXPECT_TRUE(logprobs->logprobs);
  EXPECT_TRUE(logprobs->generation.params.logprobs);
  EXPECT_EQ(logprobs->generation.params.top_logprobs, 0);
}

TEST(OpenAiRequestTest, ReasoningModelStartsInsideThink) {
  DSI_REQUIRE_V3_ASSETS(assets);
  ServedModel model = V3Model(*assets);
  model.reasoning = true;
  const ApiOr<ParsedRequest> v3 = ParseChatRequest(ChatBody(""), model);
  ASSERT_TRUE(v3.ok());
  EXPECT_TRUE(v3->reasoning);
  EXPECT_FALSE(v3->reasoning_starts_open);  // V3's prompt ends at <｜Assistant｜>

  model.chat_template = assets->r1_template.get();
  const ApiOr<ParsedRequest> r1 = ParseChatRequest(ChatBody(""), model);
  ASSERT_TRUE(r1.ok()) << r1.error().message;
  EXPECT_TRUE(r1->reasoning_starts_open);
  const std::vector<int32_t> tail = Encode(model, "<｜Assistant｜><think>\n", false);
  const std::vector<int32_t>& ids = r1->generation.prompt_token_ids;
  ASSERT_GE(ids.size(), tail.size());
  EXPECT_TRUE(std::equal(tail.begin(), tail.end(), ids.end() - static_cast<long>(tail.size())));
}

TEST(OpenAiRequestTest, ChatWithoutTemplateIs400) {
  DSI_REQUIRE_V3_ASSETS(assets);
  ServedModel model = V3Model(*assets);
  model.chat_template = nullptr;
  ExpectBadRequest(ParseChatRequest(ChatBody(""), model), {"", "messages", "has no chat template"});
  EXPECT_TRUE(ParseCompletionRequest(CompletionBody(""), model).ok());
}

TEST(OpenAiRequestTest, ErrorHelpersHaveOpenAisShapes) {
  EXPECT_EQ(Json::parse(ErrorJson(BadRequest("'x' is bad", "x"))),
            Json::parse(R"({"error": {"message": "'x' is bad", "type": "invalid_request_error",
                            "param": "x", "code": null}})"));
  EXPECT_EQ(PayloadTooLarge(1024).http_status, 413);
  EXPECT_EQ(TooManyRequests("queue full").http_status, 429);
  EXPECT_EQ(Unavailable("draining").http_status, 503);
  EXPECT_EQ(ErrorFromStatus(ResourceExhaustedError("queue")).http_status, 429);
  EXPECT_EQ(ErrorFromStatus(UnavailableError("drain")).http_status, 503);
  const ApiError bad = ErrorFromStatus(InvalidArgumentError("empty prompt"));
  EXPECT_EQ(bad.http_status, 400);
  EXPECT_EQ(bad.type, "invalid_request_error");
  const ApiError internal = ErrorFromStatus(InternalError("oops"));
  EXPECT_EQ(internal.http_status, 500);
  EXPECT_EQ(internal.type, "server_error");
  EXPECT_EQ(ResponseId(ApiKind::kChat, "abc"), "chatcmpl-abc");
  EXPECT_EQ(ResponseId(ApiKind::kCompletion, "abc"), "cmpl-abc");
}

TEST(OpenAiRequestTest, ModelsJsonListsTheModel) {
  ServedModel model;
  model.id = "deepseek-r1";
  model.created = 1700000000;
  model.max_model_len = 8192;
  const Json list = Json::parse(ModelsJson(model));
  EXPECT_EQ(list, Json::parse(R"({"object": "list", "data": [{"id": "deepseek-r1",
      "object": "model", "created": 1700000000, "owned_by": "dsinfer", "root": "deepseek-r1",
      "parent": null, "max_model_len": 8192}]})"));
  EXPECT_EQ(Json::parse(ModelJson(model)), list["data"][0]);
}

}  // namespace
}  // namespace dsinfer::server
