// libFuzzer target for the Jinja chat-template interpreter: any bytes, taken as a template,
// must parse and render against a fixed small conversation into text or a Status that says
// something, never a crash, a sanitizer report, a stack overflow or a hang. Nesting and
// call-depth limits are the production defaults (they are what guards the stack); loop and
// output limits are lowered so that each input stays fast.
// Seeds: tests/data/jinja/ (the chat templates of tests/data/chat_templates/, copied by
// scripts/run-fuzzers.sh, and a few small ones exercising other statements and filters).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/check.h"
#include "tokenizer/chat_template.h"

namespace {

using Json = nlohmann::ordered_json;

dsinfer::tokenizer::ChatTemplateInputs Conversation() {
  dsinfer::tokenizer::ChatTemplateInputs inputs;
  inputs.messages = Json::parse(R"([
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Weather in Paris? <think>x</think>"},
    {"role": "assistant", "content": null, "tool_calls": [{"type": "function", "id": "c1",
      "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": [1, 2.5]}}}]},
    {"role": "tool", "content": "{\"temp\": 21}", "tool_call_id": "c1"},
    {"role": "assistant", "content": "<think>warm</think>It is 21\u00b0C."},
    {"role": "user", "content": ""}
  ])");
  inputs.add_generation_prompt = true;
  inputs.bos_token = "<|bos|>";
  inputs.eos_token = "<|eos|>";
  inputs.tools = Json::parse(R"([{"type": "function", "function": {"name": "get_weather",
    "description": "Forecast", "parameters": {"type": "object",
    "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])");
  inputs.extra = Json{{"enable_thinking", true}};
  return inputs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const dsinfer::tokenizer::ChatTemplateInputs kInputs = Conversation();
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  dsinfer::tokenizer::JinjaLimits limits;
  limits.render.max_loop_iterations = 20'000;
  limits.render.max_output_bytes = size_t{1} << 20;
  const auto tmpl = dsinfer::tokenizer::ChatTemplate::Parse(source, limits);
  if (!tmpl.ok()) {
    DSI_CHECK(!tmpl.status().message().empty());
    return 0;
  }
  const dsinfer::StatusOr<std::string> text = tmpl->Render(kInputs);
  if (!text.ok()) {
    DSI_CHECK(!text.status().message().empty());
  } else {
    DSI_CHECK(text->size() <= limits.render.max_output_bytes);
  }
  return 0;
}
