// ParseChatRequest / ParseCompletionRequest: an OpenAI request body -> a validated
// engine::GenerationRequest (openai_api.h states the contract; chat_messages.cc builds the
// template's message list).
#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "base/utf8.h"
#include "formats/json_fields.h"
#include "server/chat_messages.h"
#include "server/openai_api.h"
#include "server/request_fields.h"

namespace dsinfer::server {
namespace {

// Deeper than any real request (tool schemas nest a few levels), shallow enough that the DOM
// and its recursive dump()/destructor stay cheap.
constexpr int kMaxBodyDepth = 32;
// OpenAI's limit for completions' integer logprobs.
constexpr int64_t kMaxCompletionLogprobs = 5;

ApiOr<Json> ParseBody(std::string_view body) {
  if (!IsValidUtf8(body)) {
    return BadRequest(fmt::format("The request body is not valid UTF-8 (at byte {}).",
                                  FirstInvalidUtf8Offset(body)));
  }
  const std::string violation =
      JsonLimitsViolation(body, JsonLimits{.max_depth = kMaxBodyDepth, .unique_keys = false});
  if (!violation.empty()) return BadRequest("The request body " + violation + ".");
  Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return BadRequest("We could not parse the JSON body of your request: " + JsonSyntaxError(body) +
                      ".");
  }
  if (!json.is_object()) {
    return BadRequest("The request body must be a JSON object, got " + DescribeValue(json) + ".");
  }
  return json;
}

MaybeError CheckModel(const RequestFields& fields, const ServedModel& model, ParsedRequest* out) {
  const Json* value = fields.Find("model");
  if (value == nullptr) return FieldError("model", "is required");
  if (!value->is_string()) return TypeError("model", "a string", *value);
  const auto& name = value->get_ref<const std::string&>();
  if (name != model.id) return ModelNotFound(name);
  out->model = name;
  return std::nullopt;
}

// Every string of `stop` (a string or a list of strings).
MaybeError ReadStop(const RequestFields& fields, std::vector<std::string>* out) {
  const Json* value = fields.Find("stop");
  if (value == nullptr) return std::nullopt;
  out->clear();
  if (value->is_string()) {
    out->push_back(value->get<std::string>());
  } else if (value->is_array()) {
    if (value->size() > sampling::kMaxStopStrings) {
      return FieldError("stop", fmt::format("must hold at most {} strings, got {}",
                                            sampling::kMaxStopStrings, value->size()));
    }
    for (size_t i = 0; i < value->size(); ++i) {
      if (!(*value)[i].is_string()) {
        return TypeError(fmt::format("stop[{}]", i), "a string", (*value)[i]);
      }
      out->push_back((*value)[i].get<std::string>());
    }
  } else {
    return TypeError("stop", "a string or an array of strings", *value);
  }
  for (size_t i = 0; i < out->size(); ++i) {
    if ((*out)[i].empty()) {
      return FieldError(value->is_string() ? "stop" : fmt::format("stop[{}]", i),
                        "must not be empty");
    }
  }
  return std::nullopt;
}

MaybeError ReadStopTokenIds(const RequestFields& fields, int32_t vocab_size,
                            std::vector<int32_t>* out) {
  const Json* value = fields.Find("stop_token_ids");
  if (value == nullptr) return std::nullopt;
  if (!value->is_array()) return TypeError("stop_token_ids", "an array of integers", *value);
  for (size_t i = 0; i < value->size(); ++i) {
    const std::optional<int64_t> id = IntegerValue((*value)[i]);
    const std::string path = fmt::format("stop_token_ids[{}]", i);
    if (!id.has_value()) return TypeError(path, "an integer", (*value)[i]);
    if (*id < 0 || *id >= vocab_size) {
      return FieldError(path,
                        fmt::format("must be a token id in [0, {}), got {}", vocab_size, *id));
    }
    out->push_back(static_cast<int32_t>(*id));
  }
  return std::nullopt;
}

// The fields both endpoints share: sampling, stopping, n, stream, user.
MaybeError ReadCommon(const RequestFields& fields, const ServedModel& model, int32_t vocab_size,
                      ParsedRequest* out) {
  sampling::SamplingParams& p = out->generation.params;
  DSI_RETURN_IF_API_ERROR(fields.Number("temperature", 0.0, 2.0, false, &p.temperature));
  DSI_RETURN_IF_API_ERROR(fields.Number("top_p", 0.0, 1.0, true, &p.top_p));
  DSI_RETURN_IF_API_ERROR(fields.Number("min_p", 0.0, 1.0, false, &p.min_p));
  DSI_RETURN_IF_API_ERROR(fields.Number("presence_penalty", -2.0, 2.0, false, &p.presence_penalty));
  DSI_RETURN_IF_API_ERROR(
      fields.Number("frequency_penalty", -2.0, 2.0, false, &p.frequency_penalty));
  DSI_RETURN_IF_API_ERROR(fields.Number(
      "repetition_penalty", 0.0, std::numeric_limits<float>::max(), true, &p.repetition_penalty));
  std::optional<int64_t> top_k;
  DSI_RETURN_IF_API_ERROR(fields.Integer("top_k", -1, std::numeric_limits<int32_t>::max(), &top_k));
  if (top_k.has_value()) p.top_k = static_cast<int32_t>(*top_k);
  std::optional<int64_t> seed;
  DSI_RETURN_IF_API_ERROR(fields.Integer("seed", std::numeric_limits<int64_t>::min(),
                                         std::numeric_limits<int64_t>::max(), &seed));
  if (seed.has_value()) p.seed = seed;
  DSI_RETURN_IF_API_ERROR(ReadStop(fields, &p.stop));
  DSI_RETURN_IF_API_ERROR(ReadStopTokenIds(fields, vocab_size, &p.stop_token_ids));
  for (int32_t id : model.extra_stop_token_ids) {
    if (std::find(p.stop_token_ids.begin(), p.stop_token_ids.end(), id) == p.stop_token_ids.end()) {
      p.stop_token_ids.push_back(id);
    }
  }
  DSI_RETURN_IF_API_ERROR(fields.Bool("ignore_eos", &p.ignore_eos));

  std::optional<int64_t> n;
  DSI_RETURN_IF_API_ERROR(fields.Integer("n", std::numeric_limits<int64_t>::min(),
                                         std::numeric_limits<int64_t>::max(), &n));
  if (n.has_value() && *n != 1) {
    return FieldError("n", fmt::format("must be 1 (one choice per request), got {}", *n));
  }

  DSI_RETURN_IF_API_ERROR(fields.Bool("stream", &out->stream));
  if (const Json* options = fields.Find("stream_options")) {
    if (!out->stream) {
      return FieldError("stream_options", "is only allowed when 'stream' is true");
    }
    if (!options->is_object()) return TypeError("stream_options", "an object", *options);
    DSI_RETURN_IF_API_ERROR(
        RequestFields(*options, "stream_options.").Bool("include_usage", &out->include_usage));
  }
  if (const Json* bias = fields.Find("logit_bias")) {
    if (!bias->is_object()) return TypeError("logit_bias", "an object", *bias);
    if (!bias->empty()) return FieldError("logit_bias", "is not supported");
  }
  std::optional<std::string> user;
  DSI_RETURN_IF_API_ERROR(fields.String("user", &user));
  out->user = user.value_or("");
  return std::nullopt;
}

// max_tokens against the context: the default fills it, an explicit value must fit it.
MaybeError FitContext(std::optional<int64_t> max_tokens, const ServedModel& model,
                      std::string_view prompt_field, std::string_view max_tokens_field,
                      ParsedRequest* out) {
  const auto prompt_tokens = static_cast<int64_t>(out->generation.prompt_token_ids.size());
  if (prompt_tokens == 0) return FieldError(prompt_field, "is empty (no tokens)");
  const int64_t limit = model.max_model_len;
  if (prompt_tokens >= limit) {
    return BadRequest(
        fmt::format("This model's maximum context length is {} tokens. However, your request "
                    "has {} input tokens. Please reduce the length of the input.",
                    limit, prompt_tokens),
        std::string(prompt_field), "context_length_exceeded");
  }
  if (!max_tokens.has_value()) {
    out->generation.params.max_tokens = static_cast<int32_t>(limit - prompt_tokens);
    return std::nullopt;
  }
  if (prompt_tokens + *max_tokens > limit) {
    return BadRequest(
        fmt::format("This model's maximum context length is {} tokens. However, you requested "
                    "{} tokens ({} in the input, {} in the completion). Please reduce the "
                    "length of the input or completion.",
                    limit, prompt_tokens + *max_tokens, prompt_tokens, *max_tokens),
        std::string(max_tokens_field), "context_length_exceeded");
  }
  out->generation.params.max_tokens = static_cast<int32_t>(*max_tokens);
  return std::nullopt;
}

// The backstop: whatever SamplingParams::Validate still finds is the client's (its messages
// begin with the field's name).
MaybeError Validate(int32_t vocab_size, const ParsedRequest& request) {
  const Status status = request.generation.params.Validate(vocab_size);
  if (status.ok()) return std::nullopt;
  const std::string_view message = status.message();
  const size_t end = message.find_first_of(" [");
  return BadRequest(std::string(message), std::string(message.substr(0, end)));
}

int32_t VocabSize(const ServedModel& model) {
  return model.vocab_size > 0 ? model.vocab_size : model.tokenizer->vocab_size();
}

ApiOr<std::vector<int32_t>> Tokenize(const ServedModel& model, std::string_view text, bool add_bos,
                                     std::string_view field) {
  StatusOr<std::vector<int32_t>> ids =
      model.tokenizer->Encode(text, {.parse_special = true, .add_bos = add_bos});
  if (!ids.ok()) return BadRequest(std::string(ids.status().message()), std::string(field));
  return std::move(ids).value();
}

// A token-id prompt: every id in the vocabulary.
ApiOr<std::vector<int32_t>> TokenIdPrompt(const Json& ids, std::string_view path,
                                          int32_t vocab_size) {
  std::vector<int32_t> out;
  out.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string item_path = fmt::format("{}[{}]", path, i);
    const std::optional<int64_t> id = IntegerValue(ids[i]);
    if (!id.has_value()) return TypeError(item_path, "an integer token id", ids[i]);
    if (*id < 0 || *id >= vocab_size) {
      return FieldError(item_path,
                        fmt::format("must be a token id in [0, {}), got {}", vocab_size, *id));
    }
    out.push_back(static_cast<int32_t>(*id));
  }
  return out;
}

// Completions' prompt: "text", [ids], ["text"] or [[ids]]; several prompts are a 400.
ApiOr<std::vector<int32_t>> CompletionPrompt(const RequestFields& fields, const ServedModel& model,
                                             int32_t vocab_size) {
  const Json* prompt = fields.Find("prompt");
  if (prompt == nullptr) return FieldError("prompt", "is required");
  const bool add_bos = model.tokenizer->add_bos();
  if (prompt->is_string()) {
    return Tokenize(model, prompt->get_ref<const std::string&>(), add_bos, "prompt");
  }
  constexpr std::string_view kShapes =
      "a string, an array of token ids, or an array of one string or one array of token ids";
  if (!prompt->is_array()) return TypeError("prompt", kShapes, *prompt);
  if (prompt->empty()) return FieldError("prompt", "must not be empty");
  const Json& first = (*prompt)[0];
  if (first.is_string() || first.is_array()) {
    if (prompt->size() > 1) {
      return FieldError(
          "prompt", fmt::format("holds {} prompts; send one prompt per request", prompt->size()));
    }
    if (first.is_string()) {
      return Tokenize(model, first.get_ref<const std::string&>(), add_bos, "prompt[0]");
    }
    return TokenIdPrompt(first, "prompt[0]", vocab_size);
  }
  if (!first.is_number()) return TypeError("prompt", kShapes, *prompt);
  return TokenIdPrompt(*prompt, "prompt", vocab_size);
}

// Completion fields we can only take at their default value.
MaybeError CheckCompletionOnlyDefaults(const RequestFields& fields) {
  bool echo = false;
  DSI_RETURN_IF_API_ERROR(fields.Bool("echo", &echo));
  if (echo) return FieldError("echo", "is not supported (must be false)");
  std::optional<int64_t> best_of;
  DSI_RETURN_IF_API_ERROR(fields.Integer("best_of", std::numeric_limits<int64_t>::min(),
                                         std::numeric_limits<int64_t>::max(), &best_of));
  if (best_of.has_value() && *best_of != 1) {
    return FieldError("best_of", fmt::format("must be 1, got {}", *best_of));
  }
  std::optional<std::string> suffix;
  DSI_RETURN_IF_API_ERROR(fields.String("suffix", &suffix));
  if (suffix.has_value() && !suffix->empty()) return FieldError("suffix", "is not supported");
  return std::nullopt;
}

// Chat fields we can only take at their default value.
MaybeError CheckChatOnlyDefaults(const RequestFields& fields) {
  if (const Json* format = fields.Find("response_format")) {
    if (!format->is_object()) return TypeError("response_format", "an object", *format);
    const auto type = format->find("type");
    if (type == format->end() || !type->is_string()) {
      return FieldError("response_format.type", "must be a string");
    }
    if (*type != "text") {
      return FieldError("response_format.type",
                        fmt::format("{} is not supported (only \"text\")", DescribeValue(*type)));
    }
  }
  if (const Json* choice = fields.Find("tool_choice")) {
    if (!(choice->is_string() && (*choice == "none" || *choice == "auto"))) {
      return FieldError("tool_choice", fmt::format("must be \"none\" or \"auto\" (forced tool "
                                                   "calls are not supported), got {}",
                                                   DescribeValue(*choice)));
    }
  }
  return std::nullopt;
}

}  // namespace

ApiOr<ParsedRequest> ParseChatRequest(std::string_view body, const ServedModel& model) {
  ApiOr<Json> json = ParseBody(body);
  if (!json.ok()) return json.error();
  const RequestFields fields(json.value());
  ParsedRequest out;
  out.kind = ApiKind::kChat;
  out.generation.params = model.defaults;
  const int32_t vocab_size = VocabSize(model);
  DSI_RETURN_IF_API_ERROR(CheckModel(fields, model, &out));
  DSI_RETURN_IF_API_ERROR(ReadCommon(fields, model, vocab_size, &out));
  DSI_RETURN_IF_API_ERROR(CheckChatOnlyDefaults(fields));

  // max_completion_tokens replaced max_tokens in the chat API; both are accepted.
  std::optional<int64_t> max_tokens;
  std::string_view max_tokens_field = "max_tokens";
  DSI_RETURN_IF_API_ERROR(
      fields.Integer("max_tokens", 1, std::numeric_limits<int32_t>::max(), &max_tokens));
  std::optional<int64_t> max_completion_tokens;
  DSI_RETURN_IF_API_ERROR(fields.Integer(
      "max_completion_tokens", 1, std::numeric_limits<int32_t>::max(), &max_completion_tokens));
  if (max_completion_tokens.has_value()) {
    max_tokens = max_completion_tokens;
    max_tokens_field = "max_completion_tokens";
  }

  DSI_RETURN_IF_API_ERROR(fields.Bool("logprobs", &out.logprobs));
  std::optional<int64_t> top_logprobs;
  DSI_RETURN_IF_API_ERROR(
      fields.Integer("top_logprobs", 0, sampling::kMaxTopLogprobs, &top_logprobs));
  if (top_logprobs.has_value() && !out.logprobs) {
    return FieldError("top_logprobs", "requires 'logprobs' to be true");
  }
  out.generation.params.logprobs = out.logprobs;
  out.generation.params.top_logprobs = static_cast<int32_t>(top_logprobs.value_or(0));

  if (model.chat_template == nullptr) {
    return BadRequest(
        fmt::format("The model `{}` has no chat template; use /v1/completions.", model.id),
        "messages");
  }
  ApiOr<tokenizer::ChatTemplateInputs> inputs = ChatTemplateInputsFromRequest(fields, model);
  if (!inputs.ok()) return inputs.error();
  StatusOr<std::string> prompt = model.chat_template->Render(inputs.value());
  if (!prompt.ok()) {
    // The template's own checks (raise_exception: "roles must alternate") judge the messages.
    return BadRequest(
        "The chat template rejected the messages: " + std::string(prompt.status().message()),
        "messages");
  }
  ApiOr<std::vector<int32_t>> ids = Tokenize(model, *prompt, /*add_bos=*/false, "messages");
  if (!ids.ok()) return ids.error();
  out.generation.prompt_token_ids = std::move(ids).value();
  DSI_RETURN_IF_API_ERROR(FitContext(max_tokens, model, "messages", max_tokens_field, &out));

  if (model.reasoning) {
    out.reasoning = true;
    // R1's template ends the generation prompt with "<think>\n": the output starts inside.
    std::string_view text = *prompt;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    out.reasoning_starts_open = text.ends_with(tokenizer::ReasoningOptions{}.open_tag);
  }
  DSI_RETURN_IF_API_ERROR(Validate(vocab_size, out));
  return out;
}

ApiOr<ParsedRequest> ParseCompletionRequest(std::string_view body, const ServedModel& model) {
  ApiOr<Json> json = ParseBody(body);
  if (!json.ok()) return json.error();
  const RequestFields fields(json.value());
  ParsedRequest out;
  out.kind = ApiKind::kCompletion;
  out.generation.params = model.defaults;
  const int32_t vocab_size = VocabSize(model);
  DSI_RETURN_IF_API_ERROR(CheckModel(fields, model, &out));
  DSI_RETURN_IF_API_ERROR(ReadCommon(fields, model, vocab_size, &out));
  DSI_RETURN_IF_API_ERROR(CheckCompletionOnlyDefaults(fields));

  std::optional<int64_t> max_tokens;
  DSI_RETURN_IF_API_ERROR(
      fields.Integer("max_tokens", 1, std::numeric_limits<int32_t>::max(), &max_tokens));
  std::optional<int64_t> logprobs;
  DSI_RETURN_IF_API_ERROR(fields.Integer("logprobs", 0, kMaxCompletionLogprobs, &logprobs));
  out.logprobs = logprobs.has_value();
  out.generation.params.logprobs = out.logprobs;
  out.generation.params.top_logprobs = static_cast<int32_t>(logprobs.value_or(0));

  ApiOr<std::vector<int32_t>> ids = CompletionPrompt(fields, model, vocab_size);
  if (!ids.ok()) return ids.error();
  out.generation.prompt_token_ids = std::move(ids).value();
  DSI_RETURN_IF_API_ERROR(FitContext(max_tokens, model, "prompt", "max_tokens", &out));
  DSI_RETURN_IF_API_ERROR(Validate(vocab_size, out));
  return out;
}

ApiOr<ParsedRequest> ParseRequest(ApiKind kind, std::string_view body, const ServedModel& model) {
  return kind == ApiKind::kChat ? ParseChatRequest(body, model)
                                : ParseCompletionRequest(body, model);
}

}  // namespace dsinfer::server
