// ResponseBuilder: engine events -> OpenAI chat.completion / text_completion objects and their
// SSE chunk streams (openai_api.h shows the sequences).
#include <cmath>

#include <fmt/format.h>

#include "server/openai_api.h"

namespace dsinfer::server {
namespace {

using Json = nlohmann::ordered_json;
using Reason = engine::GenerationEvent::Reason;

// JSON has no -inf; vLLM writes a masked token's logprob as this.
constexpr float kMinLogprob = -9999.0f;

std::string Dump(const Json& json) {
  // Decoded tokens are valid UTF-8 (Decode repairs), but never let one odd byte throw.
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string SseRecord(std::string_view data) { return fmt::format("data: {}\n\n", data); }

float FiniteLogprob(float logprob) { return std::isfinite(logprob) ? logprob : kMinLogprob; }

// Characters of UTF-8 text (Python's len(), which vLLM's text_offset counts).
int64_t CodePoints(std::string_view text) {
  int64_t n = 0;
  for (const char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

}  // namespace

ResponseBuilder::ResponseBuilder(const ParsedRequest& request, const ServedModel& model,
                                 ResponseOptions options)
    : kind_(request.kind),
      model_name_(request.model.empty() ? model.id : request.model),
      tokenizer_(model.tokenizer),
      options_(std::move(options)),
      include_usage_(request.stream && request.include_usage),
      logprobs_(request.logprobs),
      reasoning_(request.kind == ApiKind::kChat && request.reasoning),
      splitter_(tokenizer::ReasoningOptions{.starts_in_reasoning = request.reasoning_starts_open}) {
}

ResponseBuilder::TextDelta ResponseBuilder::Split(std::string_view text) {
  if (!reasoning_) return TextDelta{.content = std::string(text), .reasoning = {}};
  tokenizer::ReasoningDelta delta = splitter_.Feed(text);
  return TextDelta{.content = std::move(delta.answer), .reasoning = std::move(delta.reasoning)};
}

ResponseBuilder::TextDelta ResponseBuilder::FinishSplit() {
  if (!reasoning_) return {};
  tokenizer::ReasoningDelta delta = splitter_.Finish();
  return TextDelta{.content = std::move(delta.answer), .reasoning = std::move(delta.reasoning)};
}

void ResponseBuilder::Accumulate(const engine::GenerationEvent& event, const TextDelta& delta) {
  content_ += delta.content;
  reasoning_text_ += delta.reasoning;
  if (logprobs_) {
    all_logprobs_.insert(all_logprobs_.end(), event.logprobs.begin(), event.logprobs.end());
  }
  prompt_tokens_ = event.prompt_tokens;
  completion_tokens_ = event.completion_tokens;
  cached_tokens_ = event.cached_prompt_tokens;
  if (event.finished) {
    finished_ = true;
    reason_ = event.reason;
    error_ = event.error;
  }
}

void ResponseBuilder::Add(const engine::GenerationEvent& event) {
  if (finished_) return;
  TextDelta delta = Split(event.text);
  if (event.finished) {
    TextDelta tail = FinishSplit();
    delta.content += tail.content;
    delta.reasoning += tail.reasoning;
  }
  Accumulate(event, delta);
}

std::string ResponseBuilder::FinishReason() const {
  switch (reason_) {
    case Reason::kLength: return "length";
    case Reason::kCancelled: return "abort";
    default: return "stop";
  }
}

Json ResponseBuilder::Usage() const {
  return Json{{"prompt_tokens", prompt_tokens_},
              {"completion_tokens", completion_tokens_},
              {"total_tokens", prompt_tokens_ + completion_tokens_},
              {"prompt_tokens_details", {{"cached_tokens", cached_tokens_}}}};
}

Json ResponseBuilder::ChatLogprobs(const std::vector<engine::TokenLogprobs>& entries) const {
  auto token_entry = [this](int32_t id, float logprob) {
    const int32_t ids[] = {id};
    StatusOr<std::string> text = tokenizer_->Decode(ids);
    const std::optional<std::string_view> raw = tokenizer_->TokenBytes(id);
    Json bytes = Json::array();
    if (raw.has_value()) {
      for (const char c : *raw) bytes.push_back(static_cast<unsigned char>(c));
    }
    return Json{{"token", text.ok() ? *text : std::string()},
                {"logprob", FiniteLogprob(logprob)},
                {"bytes", std::move(bytes)}};
  };
  Json content = Json::array();
  for (const engine::TokenLogprobs& entry : entries) {
    Json item = token_entry(entry.token, entry.logprob);
    Json top = Json::array();
    for (const auto& [id, logprob] : entry.top) top.push_back(token_entry(id, logprob));
    item["top_logprobs"] = std::move(top);
    content.push_back(std::move(item));
  }
  return Json{{"content", std::move(content)}};
}

Json ResponseBuilder::CompletionLogprobs(const std::vector<engine::TokenLogprobs>& entries,
                                         int64_t* text_offset) const {
  auto token_text = [this](int32_t id) {
    const int32_t ids[] = {id};
    StatusOr<std::string> text = tokenizer_->Decode(ids);
    return text.ok() ? *text : std::string();
  };
  Json tokens = Json::array();
  Json token_logprobs = Json::array();
  Json top_logprobs = Json::array();
  Json offsets = Json::array();
  for (const engine::TokenLogprobs& entry : entries) {
    const std::string text = token_text(entry.token);
    tokens.push_back(text);
    token_logprobs.push_back(FiniteLogprob(entry.logprob));
    // OpenAI: the sampled token is always among the alternatives (so up to logprobs + 1).
    Json top = Json::object();
    for (const auto& [id, logprob] : entry.top) {
      const std::string alt = token_text(id);
      if (!top.contains(alt)) top[alt] = FiniteLogprob(logprob);
    }
    if (!top.contains(text)) top[text] = FiniteLogprob(entry.logprob);
    top_logprobs.push_back(std::move(top));
    offsets.push_back(*text_offset);
    *text_offset += CodePoints(text);
  }
  return Json{{"tokens", std::move(tokens)},
              {"token_logprobs", std::move(token_logprobs)},
              {"top_logprobs", std::move(top_logprobs)},
              {"text_offset", std::move(offsets)}};
}

Json ResponseBuilder::ChunkObject() const {
  return Json{{"id", options_.id},
              {"object", kind_ == ApiKind::kChat ? "chat.completion.chunk" : "text_completion"},
              {"created", options_.created},
              {"model", model_name_}};
}

std::string ResponseBuilder::ChunkRecord(Json choice) const {
  Json chunk = ChunkObject();
  chunk["choices"] = Json::array({std::move(choice)});
  // OpenAI: with include_usage, every chunk but the last carries "usage": null.
  if (include_usage_) chunk["usage"] = nullptr;
  return SseRecord(Dump(chunk));
}

std::string ResponseBuilder::UsageRecord() const {
  Json chunk = ChunkObject();
  chunk["choices"] = Json::array();
  chunk["usage"] = Usage();
  return SseRecord(Dump(chunk));
}

std::string ResponseBuilder::Start() {
  if (started_) return "";
  started_ = true;
  if (kind_ != ApiKind::kChat) return "";
  return ChunkRecord(Json{{"index", 0},
                          {"delta", {{"role", "assistant"}, {"content", ""}}},
                          {"logprobs", nullptr},
                          {"finish_reason", nullptr}});
}

std::string ResponseBuilder::Chunk(const engine::GenerationEvent& event) {
  std::string out = Start();
  if (finished_) return out;
  TextDelta delta = Split(event.text);
  if (event.finished) {
    TextDelta tail = FinishSplit();
    delta.content += tail.content;
    delta.reasoning += tail.reasoning;
  }
  Accumulate(event, delta);

  const bool has_logprobs = logprobs_ && !event.logprobs.empty();
  if (!delta.content.empty() || !delta.reasoning.empty() || has_logprobs) {
    if (kind_ == ApiKind::kChat) {
      Json message = Json::object();
      if (!delta.reasoning.empty()) message["reasoning_content"] = delta.reasoning;
      if (!delta.content.empty() || delta.reasoning.empty()) message["content"] = delta.content;
      out += ChunkRecord(Json{{"index", 0},
                              {"delta", std::move(message)},
                              {"logprobs", has_logprobs ? ChatLogprobs(event.logprobs) : Json()},
                              {"finish_reason", nullptr}});
    } else {
      out += ChunkRecord(
          Json{{"index", 0},
               {"text", delta.content},
               {"logprobs",
                has_logprobs ? CompletionLogprobs(event.logprobs, &stream_text_offset_) : Json()},
               {"finish_reason", nullptr}});
    }
  }
  if (!event.finished) return out;

  if (event.reason == Reason::kError) {
    // vLLM's shape for a failure after the headers went out: an error record, then [DONE].
    out += SseRecord(ErrorJson(ErrorFromStatus(event.error)));
  } else {
    Json choice = Json{{"index", 0}};
    if (kind_ == ApiKind::kChat) {
      choice["delta"] = Json::object();
    } else {
      choice["text"] = "";
    }
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = FinishReason();
    out += ChunkRecord(std::move(choice));
    if (include_usage_) out += UsageRecord();
  }
  out += SseRecord("[DONE]");
  return out;
}

JsonResponse ResponseBuilder::Final() const {
  if (!finished_) {
    return JsonResponse{.http_status = 500,
                        .body = ErrorJson(ErrorFromStatus(
                            InternalError("the response was read before generation finished")))};
  }
  if (reason_ == Reason::kError) {
    const ApiError error = ErrorFromStatus(error_);
    return JsonResponse{.http_status = error.http_status, .body = ErrorJson(error)};
  }
  Json choice = Json{{"index", 0}};
  if (kind_ == ApiKind::kChat) {
    Json message = Json{{"role", "assistant"}, {"content", content_}};
    if (reasoning_) {
      message["reasoning_content"] = reasoning_text_.empty() ? Json() : Json(reasoning_text_);
    }
    choice["message"] = std::move(message);
    choice["logprobs"] = logprobs_ ? ChatLogprobs(all_logprobs_) : Json();
  } else {
    choice["text"] = content_;
    int64_t offset = 0;
    choice["logprobs"] = logprobs_ ? CompletionLogprobs(all_logprobs_, &offset) : Json();
  }
  choice["finish_reason"] = FinishReason();
  Json body = Json{{"id", options_.id},
                   {"object", kind_ == ApiKind::kChat ? "chat.completion" : "text_completion"},
                   {"created", options_.created},
                   {"model", model_name_},
                   {"choices", Json::array({std::move(choice)})},
                   {"usage", Usage()}};
  return JsonResponse{.http_status = 200, .body = Dump(body)};
}

}  // namespace dsinfer::server
