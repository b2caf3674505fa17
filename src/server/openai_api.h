// The OpenAI API layer: HTTP JSON bodies -> engine::GenerationRequest, and engine
// GenerationEvents -> OpenAI JSON (whole responses and SSE chunks), as the OpenAI API
// reference and vLLM's OpenAI server define them. Pure functions and a per-request value
// type: no HTTP, no threads, no clock, no randomness (ids and timestamps come from the caller).
//
// Requests (ParseChatRequest, ParseCompletionRequest):
//  * The body is untrusted: nesting is bounded before a DOM is built, nothing throws, and
//    every defect is a 400 whose message and `param` name the field ("'temperature' must be a
//    number", param "temperature"; "'messages[2].role' must be ...", param "messages").
//  * `model` is required and must be the served id (404 model_not_found otherwise).
//  * Supported fields (everything else is ignored, as OpenAI ignores unknown fields):
//      both        model, max_tokens, temperature, top_p, top_k*, min_p*, presence_penalty,
//                  frequency_penalty, repetition_penalty*, seed, stop (string or list of up to
//                  sampling::kMaxStopStrings), stop_token_ids*, ignore_eos*, n (1 only),
//                  stream, stream_options.include_usage, user (ignored)
//      chat        messages (system/developer/user/assistant/tool; content a string, null or
//                  a list of text parts), max_completion_tokens (wins over max_tokens),
//                  logprobs (bool), top_logprobs (0..20, needs logprobs), tools (passed to the
//                  template), tool_choice ("none"/"auto"), response_format ({"type":"text"}),
//                  chat_template_kwargs* (extra template variables)
//      completion  prompt (a string, a list of token ids, or a list of one string / one list
//                  of ids), logprobs (int 0..5), echo (false only), best_of (1 only), suffix
//                  (null or "" only)
//    (* = vLLM's extensions.) Fields we cannot honour (n > 1, echo, logit_bias entries, image
//    parts, forced tool calls, JSON mode) are a 400, never silently dropped.
//  * Chat prompts are the model's chat template rendered with add_generation_prompt and
//    tokenised with special tokens parsed and no BOS added (the template writes it, as vLLM
//    does); completion prompts are tokenised with the tokenizer's own add_bos.
//  * max_tokens defaults to max_model_len - prompt length; a prompt + max_tokens over
//    max_model_len is a 400 (code context_length_exceeded), as vLLM answers it.
//
// Responses (ResponseBuilder): one per request. Streams are Server-Sent Events in OpenAI's
// chunk shapes:
//   chat:        role chunk (delta {"role":"assistant","content":""}), content chunks
//                (delta {"content"} and/or {"reasoning_content"}), a finish chunk (delta {},
//                finish_reason "stop"/"length"), the usage chunk (choices [], only with
//                stream_options.include_usage; every other chunk then has "usage": null),
//                "data: [DONE]"
//   completions: text chunks ({"text"}), a finish chunk (text "", finish_reason), usage, [DONE]
// An engine error ends a stream with `data: {"error": {...}}` and [DONE] (vLLM's shape); a
// cancelled request finishes with finish_reason "abort" (vLLM's).
// R1-style models (ServedModel::reasoning) have the text inside <think>...</think> moved to
// reasoning_content (chat only), split correctly across chunk boundaries.
//
// Thread safety: the free functions are thread-safe (ServedModel's tokenizer and template are
// immutable); a ResponseBuilder belongs to one request and is used by one thread at a time.
#ifndef DSINFER_SERVER_OPENAI_API_H_
#define DSINFER_SERVER_OPENAI_API_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "engine/engine.h"
#include "sampling/sampling_params.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/reasoning.h"
#include "tokenizer/tokenizer.h"

namespace dsinfer::server {

// One model as the API shows it. The pointers must outlive every request parsed against it.
struct ServedModel {
  std::string id;       // the name clients send as "model"
  int64_t created = 0;  // unix seconds, for /v1/models
  std::string owned_by = "dsinfer";
  const tokenizer::Tokenizer* tokenizer = nullptr;         // required
  const tokenizer::ChatTemplate* chat_template = nullptr;  // null: chat completions are a 400
  // BOS / EOS text given to the template; unset: the tokenizer's bos/eos token text.
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
  int32_t max_model_len = 0;  // context length: prompt + completion tokens
  int32_t vocab_size = 0;     // bounds token-id prompts and stop_token_ids; 0: the tokenizer's
  bool reasoning = false;     // R1-style: split <think>...</think> into reasoning_content
  // Starting sampling parameters that request fields override (generation_config.json's
  // temperature / top_p / top_k, as vLLM applies them).
  sampling::SamplingParams defaults;
  // Stop tokens every request gets besides the tokenizer's eos (generation_config.json's
  // other eos ids).
  std::vector<int32_t> extra_stop_token_ids;
};

enum class ApiKind { kChat, kCompletion };

// An error in OpenAI's shape: {"error": {"message", "type", "param", "code"}}.
struct ApiError {
  int http_status = 500;
  std::string type;  // "invalid_request_error", "server_error", ...
  std::string message;
  std::optional<std::string> param;  // the offending request field, when there is one
  std::optional<std::string> code;   // "model_not_found", "context_length_exceeded", ...
};

// The JSON body for an error.
std::string ErrorJson(const ApiError& error);

// 400 invalid_request_error naming `param`.
ApiError BadRequest(std::string message, std::optional<std::string> param = std::nullopt,
                    std::optional<std::string> code = std::nullopt);
// 404 model_not_found: "The model `NAME` does not exist."
ApiError ModelNotFound(std::string_view model);
// 404 for an unknown path.
ApiError PathNotFound(std::string_view path);
// 405 for a known path with the wrong method.
ApiError MethodNotAllowed(std::string_view method, std::string_view path);
// 413 request_too_large: the body is over `limit_bytes`.
ApiError PayloadTooLarge(int64_t limit_bytes);
// 429 (queue full, rate limit, quota).
ApiError TooManyRequests(std::string message);
// 503 (draining, loading).
ApiError Unavailable(std::string message);
// Any Status (e.g. from Engine::Submit), its HTTP status from HttpStatusFor: 4xx become
// invalid_request_error etc., 5xx server_error.
ApiError ErrorFromStatus(const Status& status, std::optional<std::string> param = std::nullopt);

// A value or an ApiError.
template <typename T>
class ApiOr {
 public:
  ApiOr(T value) : data_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  ApiOr(ApiError error) : data_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return std::holds_alternative<T>(data_); }
  const ApiError& error() const { return std::get<ApiError>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T& value() & { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<T, ApiError> data_;
};

// A validated request, ready for Engine::Submit.
struct ParsedRequest {
  ApiKind kind = ApiKind::kChat;
  // request_id is left empty: the caller names the request (it owns id generation).
  // params are Validate()d, with max_tokens always set.
  engine::GenerationRequest generation;
  std::string model;  // echoed in responses
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  // logprobs requested (chat: "logprobs": true; completions: "logprobs": N >= 0); the number
  // of alternatives is generation.params.top_logprobs.
  bool logprobs = false;
  // Chat, reasoning models: the rendered prompt already opened <think>, so generated text
  // starts inside the reasoning block.
  bool reasoning = false;
  bool reasoning_starts_open = false;
  std::string user;  // "user", for logs; may be empty
};

ApiOr<ParsedRequest> ParseChatRequest(std::string_view body, const ServedModel& model);
ApiOr<ParsedRequest> ParseCompletionRequest(std::string_view body, const ServedModel& model);
// By kind.
ApiOr<ParsedRequest> ParseRequest(ApiKind kind, std::string_view body, const ServedModel& model);

// "chatcmpl-" / "cmpl-" + `unique` (the caller's random or sequential suffix).
std::string ResponseId(ApiKind kind, std::string_view unique);

// GET /v1/models: {"object":"list","data":[model]}; GET /v1/models/{id}: the model object.
std::string ModelsJson(const ServedModel& model);
std::string ModelsJson(const std::vector<const ServedModel*>& models);
std::string ModelJson(const ServedModel& model);

// A complete non-streamed HTTP answer.
struct JsonResponse {
  int http_status = 200;
  std::string body;
};

struct ResponseOptions {
  std::string id;       // ResponseId(...)
  int64_t created = 0;  // unix seconds
};

// Turns one request's events into OpenAI JSON. Feed every event, in order, to Chunk()
// (streams) or Add() (whole responses); after the finished event, Final() gives the whole
// response.
class ResponseBuilder {
 public:
  // `model` must outlive the builder (its tokenizer names logprob tokens).
  ResponseBuilder(const ParsedRequest& request, const ServedModel& model, ResponseOptions options);

  // Streams: the SSE text to send for this event, zero or more complete "data: ...\n\n"
  // records (the role chunk first, if Start() was not called; after the finished event the
  // finish chunk, usage chunk and "data: [DONE]"). Also accumulates, like Add().
  std::string Chunk(const engine::GenerationEvent& event);
  // Streams: the opening records, to send with the headers before any token (the chat role
  // chunk; nothing for completions). Idempotent: later calls return "".
  std::string Start();

  // Whole responses: accumulate an event.
  void Add(const engine::GenerationEvent& event);
  // Whole responses, after the finished event: 200 with the chat.completion /
  // text_completion object, or the error of a failed request (kError: its status mapped by
  // ErrorFromStatus, 500 for internal errors).
  JsonResponse Final() const;

  bool finished() const { return finished_; }

 private:
  struct TextDelta {
    std::string content;
    std::string reasoning;
  };
  TextDelta Split(std::string_view text);
  TextDelta FinishSplit();
  nlohmann::ordered_json ChunkObject() const;
  std::string ChunkRecord(nlohmann::ordered_json choice) const;
  std::string UsageRecord() const;
  nlohmann::ordered_json Usage() const;
  nlohmann::ordered_json ChatLogprobs(const std::vector<engine::TokenLogprobs>& entries) const;
  nlohmann::ordered_json CompletionLogprobs(const std::vector<engine::TokenLogprobs>& entries,
                                            int64_t* text_offset) const;
  std::string FinishReason() const;
  void Accumulate(const engine::GenerationEvent& event, const TextDelta& delta);

  ApiKind kind_;
  std::string model_name_;
  const tokenizer::Tokenizer* tokenizer_;
  ResponseOptions options_;
  bool include_usage_;
  bool logprobs_;
  bool reasoning_;
  tokenizer::ReasoningSplitter splitter_;

  bool started_ = false;
  bool finished_ = false;
  engine::GenerationEvent::Reason reason_ = engine::GenerationEvent::Reason::kNone;
  Status error_;
  std::string content_;  // whole text (answer part for reasoning models)
  std::string reasoning_text_;
  std::vector<engine::TokenLogprobs> all_logprobs_;
  int64_t stream_text_offset_ = 0;  // completions logprobs text_offset across chunks
  int32_t prompt_tokens_ = 0;
  int32_t completion_tokens_ = 0;
  int32_t cached_tokens_ = 0;
};

}  // namespace dsinfer::server

#endif  // DSINFER_SERVER_OPENAI_API_H_
