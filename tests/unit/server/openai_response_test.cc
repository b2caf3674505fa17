// ResponseBuilder: the exact SSE chunk sequences and whole-response objects of OpenAI's chat
// and completions APIs, reasoning_content split across chunk boundaries, logprobs shapes,
// finish reasons and errors.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/openai_api.h"
#include "test_model.h"
#include "tokenizer/reasoning.h"

namespace dsinfer::server {
namespace {

using testing::V3Dir;
using testing::V3Model;
using Json = nlohmann::ordered_json;
using Reason = engine::GenerationEvent::Reason;

constexpr int64_t kCreated = 1700000000;

ParsedRequest Request(ApiKind kind, bool stream, bool include_usage = false) {
  ParsedRequest request;
  request.kind = kind;
  request.model = "deepseek-v3";
  request.stream = stream;
  request.include_usage = include_usage;
  return request;
}

engine::GenerationEvent Event(std::string text, int32_t completion_tokens,
                              Reason reason = Reason::kNone) {
  engine::GenerationEvent event;
  event.text = std::move(text);
  event.token_ids = {1000 + completion_tokens};
  event.prompt_tokens = 10;
  event.completion_tokens = completion_tokens;
  event.cached_prompt_tokens = 4;
  event.finished = reason != Reason::kNone;
  event.reason = reason;
  return event;
}

// The "data: " payloads of an SSE text, checking the record framing on the way.
std::vector<std::string> Records(const std::string& sse) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < sse.size()) {
    EXPECT_EQ(sse.compare(pos, 6, "data: "), 0) << sse.substr(pos);
    const size_t end = sse.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos);
    if (end == std::string::npos) break;
    out.push_back(sse.substr(pos + 6, end - pos - 6));
    pos = end + 2;
  }
  return out;
}

TEST(OpenAiResponseTest, ChatStreamChunkSequenceIsExact) {
  DSI_REQUIRE_V3_ASSETS(assets);
  const ServedModel model = V3Model(*assets);
  ResponseBuilder builder(Request(ApiKind::kChat, true, /*include_usage=*/true), model,
                          {.id = "chatcmpl-1", .created = kCreated});
  std::string sse = builder.Start();
  EXPECT_EQ(builder.Start(), "");  // idempotent
  sse += builder.Chunk(Event("Hello", 1));
  sse += builder.Chunk(Event("", 2));  // held back by the detokeniser: no chunk
  sse += builder.Chunk(Event(" world", 3, Reason::kStop));
  EXPECT_TRUE(builder.finished());
  const std::string head = R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":)" +
                           std::to_string(kCreated) + R"(,"model":"deepseek-v3","choices":)";
  EXPECT_EQ(sse,
            "data: " + head +
                R"([{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,)"
                R"("finish_reason":null}],"usage":null})"
                "\n\n"
                "data: " +
                head +
                R"([{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],)"
                R"("usage":null})"
                "\n\n"
                "data: " +
                head +
                R"([{"index":0,"delta":{"content":" world"},"logprobs":null,)"
                R"("finish_reason":null}],"usage":null})"
                "\n\n"
                "data: " +
                head +
                R"([{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null})"
                "\n\n"
                "data: " +
                head +
                R"([],"usage":{"prompt_tokens":10,"completion_tokens":3,"total_tokens":13,)"
                R"("prompt_tokens_details":{"cached_tokens":4}}})"
                "\n\n"
                "data: [DONE]\n\n");
  // Nothing after the end.
  EXPECT_EQ(builder.Chunk(Event("late", 4, Reason::kStop)), "");
}

TEST(OpenAiResponseTest, ChatStreamWithoutUsageHasNoUsageKey) {
  DSI_REQUIRE_V3_ASSETS(assets);
  const ServedModel model = V3Model(*assets);
  ResponseBuilder builder(Request(ApiKind::kChat, true), model,
                          {.id = "chatcmpl-2", .created = kCreated});
  // No Start(): the first Chunk opens with the role chunk.
  const std::vector<std::string> records = Records(builder.Chunk(Event("Hi", 1, Reason::kLength)));
  ASSERT_EQ(records.size(), 4u);
  for (size_t i = 0; i < 3; ++i) EXPECT_FALSE(Json::parse(records[i]).contains("usage"));
  EXPECT_EQ(Json::parse(records[0])["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(Json::parse(records[1])["choices"][0]["delta"], Json::parse(R"({"content":"Hi"})"));
  EXPECT_EQ(Json::parse(records[2])["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(records[3], "[DONE]");
}

TEST(OpenAiResponseTest, CompletionStreamChunkSequenceIsExact) {
  DSI_REQUIRE_V3_ASSETS(assets);
  const ServedModel model = V3Model(*assets);
  ResponseBuilder builder(Request(ApiKind::kCompletion, true, true), model,
                          {.id = "cmpl-7", .created = kCreated});
  EXPECT_EQ(builder.Start(), "");  // completions have no role chunk
  std::string sse = builder.Chunk(Event(" upon", 1));
  sse += builder.Chunk(Event(" a time", 2, Reason::kLength));
  const std::string head = R"({"id":"cmpl-7","object":"text_completion","created":)" +
                           std::to_string(kCreated) + R"(,"model":"deepseek-v3","choices":)";
  EXPECT_EQ(sse, "data: " + head +
                     R"([{"index":0,"text":" upon","logprobs":null,"finish_reason":null}],)"
                     R"("usage":null})"
                     "\n\ndata: " +
                     head +
                     R"([{"index":0,"text":" a time","logprobs":null,"finish_reason":null}],)"
                     R"("usage":null})"
                     "\n\ndata: " +
                     head +
                     R"([{"index":0,"text":"","logprobs":null,"finish_reason":"length"}],)"
                     R"("usage":null})"
                     "\n\ndata: " +
                     head +
                     R"([],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12,)"
                     R"("prompt_tokens_details":{"cached_tokens":4}}})"
                     "\n\ndata: [DONE]\n\n");
}

TEST(OpenAiResponseTest, NonStreamObjectsHaveOpenAisShape) {
  DSI_REQUIRE_V3_ASSETS(assets);
  const ServedModel model = V3Model(*assets);
  ResponseBuilder chat(Request(ApiKind::kChat, false), model,
                       {.id = "chatcmpl-9", .created = kCreated});
  chat.Add(Event("Hello", 1));
  chat.Add(Event(", world", 2, Reason::kStop));
  const JsonResponse chat_response = chat.Final();
  EXPECT_EQ(chat_response.http_status, 200);
  EXPECT_EQ(Json::parse(chat_response.body), Json::parse(R"({
      "id": "chatcmpl-9", "object": "chat.completion", "created": 1700000000,
      "model": "deepseek-v3",
      "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello, world"},
                   "logprobs": null, "finish_reason": "stop"}],
      "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12,
                "prompt_tokens_details": {"cached_tokens": 4}}})"));

  ResponseBuilder completion(Request(ApiKind::kCompletion, false), model,
                             {.id = "cmpl-9", .created = kCreated});
  completion.Add(Event(" upon a time", 5, Reason::kLength));
  EXPECT_EQ(Json::parse(completion.Final().body), Json::parse(R"({
      "id": "cmpl-9", "object": "text_completion", "created": 1700000000,
      "model": "deepseek-v3",
      "choices": [{"index": 0, "text": " upon a time", "logprobs": null,
                   "finish_reason": "length"}],
      "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
                "prompt_tokens_details": {"cached_tokens": 4}}})"));
}

TEST(OpenAiResponseTest, ReasoningSplitsAcrossChunkBoundaries) {
  DSI_REQUIRE_V3_ASSETS(assets);
  ServedModel model = V3Model(*assets);
  model.reasoning = true;
  ParsedRequest request = Request(ApiKind::kChat, true);
  request.reasoning = true;
  request.reasoning_starts_open = true;  // R1: the prompt ended with "<think>\n"
  // The close tag arrives split over three events.
  const std::vector<std::string> pieces = {"Let me th", "ink.</", "th", "ink>\n\nThe answer",
                                           " is 4."};
  ResponseBuilder stream(request, model, {.id = "chatcmpl-r", .created = kCreated});
  std::string sse;
  for (size_t i = 0; i < pieces.size(); ++i) {
    sse += stream.Chunk(Event(pieces[i], static_cast<int32_t>(i + 1),
                              i + 1 == pieces.size() ? Reason::kStop : Reason::kNone));
  }
  std::string reasoning;
  std::string content;
  std::vector<Json> deltas;
  for (const std::string& record : Records(sse)) {
    if (record == "[DONE]") continue;
    const Json delta = Json::parse(record)["choices"][0]["delta"];
    deltas.push_back(delta);
    if (delta.contains("reasoning_content")) reasoning += delta["reasoning_content"];
    if (delta.contains("content")) content += delta["content"];
    // A partial tag is never shown.
    EXPECT_EQ(delta.dump().find("</"), std::string::npos) << delta.dump();
  }
  EXPECT_EQ(reasoning, "Let me think.");
  EXPECT_EQ(content, "\n\nThe answer is 4.");
  const tokenizer::ReasoningDelta whole = tokenizer::SplitReasoning(
      "Let me think.</think>\n\nThe answer is 4.", {.starts_in_reasoning = true});
  EXPECT_EQ(reasoning, whole.reasoning);
  EXPECT_EQ(content, whole.answer);
  ASSERT_EQ(deltas.size(), 6u);  // role, "Let me th", "ink.", answer, " is 4.", finish
  EXPECT_EQ(deltas[1], Json::parse(R"({"reasoning_content":"Let me th"})"));
  EXPECT_EQ(deltas[2], Json::parse(R"({"reasoning_content":"ink."})"));
  EXPECT_EQ(deltas[3], Json::parse(R"({"content":"\n\nThe answer"})"));

  // The same events, whole: reasoning_content beside content.
  request.stream = false;
  ResponseBuilder once(request, model, {.id = "chatcmpl-r", .created = kCreated});
  for (size_t i = 0; i < pieces.size(); ++i) {
    once.Add(Event(pieces[i], static_cast<int32_t>(i + 1),
                   i + 1 == pieces.size() ? Reason::kStop : Reason::kNone));
  }
  const Json message = Json::parse(once.Final().body)["choices"][0]["message"];
  EXPECT_EQ(message, Json::parse(R"({"role": "assistant", "content": "\n\nThe answer is 4.",
                                     "reasoning_content": "Let me think."})"));
}

TEST(OpenAiResponseTest, ReasoningOpenedByTheModelAndUnclosedAtTheEnd) {
  DSI_REQUIRE_V3_ASSETS(assets);
  const ServedModel model = V3Model(*assets);
  ParsedRequest request = Request(ApiKind::kChat, false);
  request.reasoning = true;
  ResponseBuilder opened(request, model, {.id = "a", .created = kCreated});
  opened.Add(Event("<thi", 1));
  opened.Add(Event("nk>plan</think>done", 2, Reason::kStop));
  EXPECT_EQ(Json::parse(opened.Final().body)["choices"][0]["message"],
            Json::parse(R"({"role": "assistant", "content": "done",
                            "reasoning_content": "plan"})"));
  // Cut off by max_tokens inside the block: what was held back is released as reasoning.
  request.reasoning_starts_open = true;
  ResponseBuilder cut(request, model, {.id = "b", .created = kCreated});
  cut.Add(Event("still thinking </thi", 1, Reason::kLength));
  const Json choice = Json::parse(cut.Final().body)["choices"][0];
  EXPECT_EQ(choice["message"]["content"], "");
  EXPECT_EQ(choice["message"]["reasoning_content"], "still thinking </thi");
  EXPECT_EQ(choice["finish_reason"], "length");
}

struct TokenIds {
  int32_t hello;
  int32_t world;
  int32_t byte_e4;  // a lone UTF-8 lead byte: U+FFFD as text, [228] as bytes
};

TokenIds FindTokens(const ServedModel& model) {
  StatusOr<std::vector<int32_t>> ids = model.tokenizer->Encode("Hello world", {});
  EXPECT_TRUE(ids.ok());
  EXPECT_EQ(ids->size(), 2u);
  const std::optional<int32_t> e4 = model.tokenizer->FindToken("\xC3\xA4");  // byte-level 0xE4
  EXPECT_TRUE(e4.has_value());
  return {(*ids)[0], (*ids)[1], e4.value_or(0)};
}

TEST(OpenAiResponseTest, ChatLogprobsShape) {
  DSI_REQUIRE_V3_ASSETS(assets);
  const ServedModel model = V3Model(*assets);
  const TokenIds t = FindTokens(model);
  ParsedRequest request = Request(ApiKind::kChat, true);
  request.logprobs = true;
  ResponseBuilder builder(request, model, {.id = "c", .created = kCreated});
  engine::GenerationEvent event = Event("Hello", 1);
  event.logprobs = {
      {.token = t.hello,
       .logprob = -0.25f,
       .top = {{t.hello, -0.25f}, {t.byte_e4, -std::numeric_limits<float>::infinity()}}}};
  const std::vector<std::string> records = Records(builder.Chunk(event));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(Json::parse(records[1])["choices"][0]["logprobs"], Json::parse(R"({"content": [
      {"token": "Hello", "logprob": -0.25, "bytes": [72, 101, 108, 108, 111],
       "top_logprobs": [{"token": "Hello", "logprob": -0.25, "bytes": [72, 101, 108, 108, 111]},
                        {"token": "\ufffd", "logprob": -9999.0, "bytes": [228]}]}]})"));

  // Whole response: all tokens' entries in one list.
  request.stream = false;
  ResponseBuilder whole(request, model, {.id = "c", .created = kCreated});
  whole.Add(event);
  engine::GenerationEvent last = Event(" world", 2, Reason::kStop);
  last.logprobs = {{.token = t.world, .logprob = -1.5f, .top = {}}};
  whole.Add(last);
  const Json logprobs = Json::parse(whole.Final().body)["choices"][0]["logprobs"];
  ASSERT_EQ(logprobs["content"].size(), 2u);
  EXPECT_EQ(logprobs["content"][1], Json::parse(R"({"token": " world", "logprob": -1.5,
      "bytes": [32, 119, 111, 114, 108, 100], "top_logprobs": []})"));
}

TEST(OpenAiResponseTest, CompletionLogprobsShape) {
  DSI_REQUIRE_V3_ASSETS(assets);
  const ServedModel model = V3Model(*assets);
  const TokenIds t = FindTokens(model);
  ParsedRequest request = Request(ApiKind::kCompletion, true);
  request.logprobs = true;
  ResponseBuilder builder(request, model, {.id = "d", .created = kCreated});
  engine::GenerationEvent first = Event("Hello", 1);
  first.logprobs = {{.token = t.hello, .logprob = -0.5f, .top = {{t.world, -0.25f}}}};
  engine::GenerationEvent second = Event(" world", 2, Reason::kStop);
  second.logprobs = {{.token = t.world, .logprob = -2.0f, .top = {{t.world, -2.0f}}}};
  std::vector<std::string> records = Records(builder.Chunk(first));
  const std::vector<std::string> more = Records(builder.Chunk(second));
  records.insert(records.end(), more.begin(), more.end());
  ASSERT_EQ(records.size(), 4u);  // two text chunks, finish, [DONE]
  // The sampled token is always among the alternatives; offsets continue across chunks.
  EXPECT_EQ(Json::parse(records[0])["choices"][0]["logprobs"], Json::parse(R"({
      "tokens": ["Hello"], "token_logprobs": [-0.5],
      "top_logprobs": [{" world": -0.25, "Hello": -0.5}], "text_offset": [0]})"));
  EXPECT_EQ(Json::parse(records[1])["choices"][0]["logprobs"], Json::parse(R"({
      "tokens": [" world"], "token_logprobs": [-2.0],
      "top_logprobs": [{" world": -2.0}], "text_offset": [5]})"));

  request.stream = false;
  ResponseBuilder whole(request, model, {.id = "d", .created = kCreated});
  whole.Add(first);
  whole.Add(second);
  EXPECT_EQ(Json::parse(whole.Final().body)["choices"][0]["logprobs"], Json::parse(R"({
      "tokens": ["Hello", " world"], "token_logprobs": [-0.5, -2.0],
      "top_logprobs": [{" world": -0.25, "Hello": -0.5}, {" world": -2.0}],
      "text_offset": [0, 5]})"));
}

TEST(OpenAiResponseTest, ErrorsAndCancellation) {
  DSI_REQUIRE_V3_ASSETS(assets);
  const ServedModel model = V3Model(*assets);
  engine::GenerationEvent failed = Event("", 1, Reason::kError);
  failed.error = InternalError("forward pass failed");

  ResponseBuilder stream(Request(ApiKind::kChat, true), model, {.id = "e", .created = kCreated});
  stream.Chunk(Event("partial", 1));
  const std::vector<std::string> records = Records(stream.Chunk(failed));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(Json::parse(records[0]), Json::parse(R"({"error": {
      "message": "forward pass failed", "type": "server_error", "param": null, "code": null}})"));
  EXPECT_EQ(records[1], "[DONE]");

  ResponseBuilder whole(Request(ApiKind::kCompletion, false), model,
                        {.id = "e", .created = kCreated});
  whole.Add(failed);
  const JsonResponse response = whole.Final();
  EXPECT_EQ(response.http_status, 500);
  EXPECT_EQ(Json::parse(response.body)["error"]["message"], "forward pass failed");

  ResponseBuilder unfinished(Request(ApiKind::kChat, false), model,
                             {.id = "e", .created = kCreated});
  unfinished.Add(Event("x", 1));
  EXPECT_EQ(unfinished.Final().http_status, 500);

  ResponseBuilder cancelled(Request(ApiKind::kChat, false), model,
                            {.id = "e", .created = kCreated});
  cancelled.Add(Event("x", 1, Reason::kCancelled));
  EXPECT_EQ(Json::parse(cancelled.Final().body)["choices"][0]["finish_reason"], "abort");
}

}  // namespace
}  // namespace dsinfer::server
