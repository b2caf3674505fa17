// libFuzzer target for the OpenAI request layer: any bytes, taken as a request body, must give
// ParseChatRequest and ParseCompletionRequest either a validated request or a 400/404 with a
// message, never a crash, a sanitizer report or a hang. A body that parses is also run through
// a ResponseBuilder (stream and whole) with a few synthetic events, so that the response code
// sees every parameter combination the parser lets through.
// The model: the tokenizer tests' tiny byte-level BPE, and a small chat template with a
// generation prompt that opens <think> (the R1 shape, so the reasoning split runs too).
// Seeds: tests/data/openai_request/.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "../tests/unit/tokenizer/tiny_tokenizer.h"
#include "base/check.h"
#include "server/openai_api.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer_json.h"

namespace {

namespace server = dsinfer::server;
namespace tok = dsinfer::tokenizer;

constexpr const char* kTemplate =
    "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}<u>{{ m['content'] }}"
    "{% elif m['role'] == 'assistant' %}<a>{{ m['content'] or '' }}{% if m['tool_calls'] %}"
    "{% for c in m['tool_calls'] %}<call>{{ c['function']['name'] }}{% endfor %}{% endif %}"
    "{{ eos_token }}{% else %}{{ m['content'] }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<a><think>\n{% endif %}";

struct TinyModel {
  std::unique_ptr<tok::Tokenizer> tokenizer;
  std::unique_ptr<tok::ChatTemplate> chat_template;
  server::ServedModel served;
};

const TinyModel& Model() {
  static const TinyModel* model = [] {
    auto* out = new TinyModel;
    dsinfer::StatusOr<tok::Tokenizer> tokenizer = tok::LoadHfTokenizer(
        tok::testing::TinyTokenizerJson().dump(), tok::testing::TinyTokenizerConfig());
    DSI_CHECK_MSG(tokenizer.ok(), "%s", tokenizer.status().ToString().c_str());
    out->tokenizer = std::make_unique<tok::Tokenizer>(std::move(tokenizer).value());
    dsinfer::StatusOr<tok::ChatTemplate> tmpl = tok::ChatTemplate::Parse(kTemplate);
    DSI_CHECK_MSG(tmpl.ok(), "%s", tmpl.status().ToString().c_str());
    out->chat_template = std::make_unique<tok::ChatTemplate>(std::move(tmpl).value());
    out->served.id = "tiny";
    out->served.tokenizer = out->tokenizer.get();
    out->served.chat_template = out->chat_template.get();
    out->served.max_model_len = 256;
    out->served.reasoning = true;
    return out;
  }();
  return *model;
}

// Events as the engine would send them for `request`: a few tokens of text that straddles
// the reasoning tags, with logprobs when asked, then a finish.
void Respond(const server::ParsedRequest& request, const server::ServedModel& model) {
  server::ResponseBuilder builder(request, model, {.id = "chatcmpl-fuzz", .created = 1});
  const char* pieces[] = {"so</th", "ink>\xE4\xB8\xAD", " done"};
  const int32_t top = request.generation.params.top_logprobs;
  for (int i = 0; i < 3; ++i) {
    dsinfer::engine::GenerationEvent event;
    event.text = pieces[i];
    event.token_ids = {256 + i};
    if (request.logprobs) {
      dsinfer::engine::TokenLogprobs lp{.token = 256 + i, .logprob = -0.5f, .top = {}};
      for (int32_t k = 0; k < top; ++k)
        lp.top.emplace_back(k * 37 % 400, -1.0f * static_cast<float>(k));
      event.logprobs.push_back(lp);
    }
    event.prompt_tokens = static_cast<int32_t>(request.generation.prompt_token_ids.size());
    event.completion_tokens = i + 1;
    event.finished = i == 2;
    event.reason = dsinfer::engine::GenerationEvent::Reason::kStop;
    if (!event.finished) event.reason = dsinfer::engine::GenerationEvent::Reason::kNone;
    if (request.stream) {
      (void)builder.Chunk(event);
    } else {
      builder.Add(event);
    }
  }
  const server::JsonResponse response = builder.Final();
  DSI_CHECK(response.http_status == 200);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const TinyModel& model = Model();
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  for (server::ApiKind kind : {server::ApiKind::kChat, server::ApiKind::kCompletion}) {
    const server::ApiOr<server::ParsedRequest> request =
        server::ParseRequest(kind, body, model.served);
    if (!request.ok()) {
      const server::ApiError& error = request.error();
      DSI_CHECK(error.http_status == 400 || error.http_status == 404);
      DSI_CHECK(!error.message.empty());
      (void)server::ErrorJson(error);
      continue;
    }
    const dsinfer::sampling::SamplingParams& params = request->generation.params;
    DSI_CHECK(params.Validate(model.served.tokenizer->vocab_size()).ok());
    DSI_CHECK(params.max_tokens.has_value());
    DSI_CHECK(static_cast<int64_t>(request->generation.prompt_token_ids.size()) +
                  *params.max_tokens <=
              model.served.max_model_len);
    Respond(request.value(), model.served);
  }
  return 0;
}
