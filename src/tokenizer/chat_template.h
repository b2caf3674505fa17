// Chat templates: turning an OpenAI-style message list into the prompt text a model was
// trained on, by running the model's Jinja template exactly as transformers'
// apply_chat_template does.
//
// The template sees: messages, tools (None when absent), documents (None),
// add_generation_prompt, bos_token and eos_token (each only when known), and any extra
// variables, which override the others (transformers' **kwargs). Where a template comes from:
// tokenizer_config.json ("chat_template", a string or a list of named templates, of which
// "default" is used; bos/eos as strings or {"content": ...}), a bare .jinja file, or a GGUF
// file (tokenizer.chat_template, with bos/eos looked up in tokenizer.ggml.tokens).
//
// Thread safety: ChatTemplate is immutable after Parse; Render may run concurrently.
#ifndef DSINFER_TOKENIZER_CHAT_TEMPLATE_H_
#define DSINFER_TOKENIZER_CHAT_TEMPLATE_H_

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "tokenizer/jinja_template.h"

namespace dsinfer::tokenizer {

struct ChatTemplateInputs {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  bool add_generation_prompt = false;
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
  std::optional<nlohmann::ordered_json> tools;  // a list of tool schemas
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
};

class ChatTemplate {
 public:
  static StatusOr<ChatTemplate> Parse(std::string_view source, const JinjaLimits& limits = {});
  StatusOr<std::string> Render(const ChatTemplateInputs& inputs) const;

 private:
  explicit ChatTemplate(JinjaTemplate jinja) : jinja_(std::move(jinja)) {}
  JinjaTemplate jinja_;
};

// Parse and render in one call.
StatusOr<std::string> RenderChatTemplate(std::string_view source, const ChatTemplateInputs& inputs);

// A template and the special tokens that came with it.
struct ChatTemplateSource {
  std::string source;
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
};

// Reads a tokenizer_config.json, a GGUF file or (anything else) a Jinja template file.
StatusOr<ChatTemplateSource> LoadChatTemplateSource(const std::string& path);
// The same from tokenizer_config.json text; `name` prefixes errors.
StatusOr<ChatTemplateSource> ChatTemplateFromTokenizerConfig(std::string_view json_text,
                                                             std::string_view name);

}  // namespace dsinfer::tokenizer

#endif  // DSINFER_TOKENIZER_CHAT_TEMPLATE_H_
