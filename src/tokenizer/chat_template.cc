// ChatTemplate: the variables transformers passes, and where templates are read from.
#include "tokenizer/chat_template.h"

#include <fstream>
#include <sstream>

#include "formats/gguf_file.h"

namespace dsinfer::tokenizer {

StatusOr<ChatTemplate> ChatTemplate::Parse(std::string_view source, const JinjaLimits& limits) {
  DSI_ASSIGN_OR_RETURN(JinjaTemplate jinja, JinjaTemplate::Parse(source, limits));
  return ChatTemplate(std::move(jinja));
}

StatusOr<std::string> ChatTemplate::Render(const ChatTemplateInputs& inputs) const {
  if (!inputs.messages.is_array()) return InvalidArgumentError("messages must be a JSON array");
  if (inputs.tools && !inputs.tools->is_array() && !inputs.tools->is_null()) {
    return InvalidArgumentError("tools must be a JSON array");
  }
  if (!inputs.extra.is_object()) return InvalidArgumentError("extra variables must be an object");
  // The order and contents of transformers' render(**kwargs): special tokens, then
  // messages/tools/documents/add_generation_prompt, then the caller's extra kwargs.
  jinja::ValueDict vars;
  if (inputs.bos_token) vars.Set("bos_token", jinja::Value(*inputs.bos_token));
  if (inputs.eos_token) vars.Set("eos_token", jinja::Value(*inputs.eos_token));
  vars.Set("messages", jinja::Value::FromJson(inputs.messages));
  vars.Set("tools", inputs.tools ? jinja::Value::FromJson(*inputs.tools) : jinja::Value::None());
  vars.Set("documents", jinja::Value::None());
  vars.Set("add_generation_prompt", jinja::Value(inputs.add_generation_prompt));
  for (const auto& [key, value] : inputs.extra.items()) {
    vars.Set(key, jinja::Value::FromJson(value));
  }
  return jinja_.Render(vars);
}

StatusOr<std::string> RenderChatTemplate(std::string_view source,
                                         const ChatTemplateInputs& inputs) {
  DSI_ASSIGN_OR_RETURN(ChatTemplate tmpl, ChatTemplate::Parse(source));
  return tmpl.Render(inputs);
}

namespace {

// A special token in tokenizer_config.json: "text" or {"content": "text", ...}.
std::optional<std::string> SpecialToken(const nlohmann::ordered_json& config, const char* key) {
  const auto it = config.find(key);
  if (it == config.end()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    return (*it)["content"].get<std::string>();
  }
  return std::nullopt;
}

StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError(path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) return DataLossError(path + ": read failed");
  return text.str();
}

StatusOr<ChatTemplateSource> FromGguf(const std::string& path) {
  DSI_ASSIGN_OR_RETURN(GgufFile file, GgufFile::Open(path));
  const std::optional<std::string_view> source = file.GetString("tokenizer.chat_template");
  if (!source) return NotFoundError(path + ": no tokenizer.chat_template key");
  ChatTemplateSource out{.source = std::string(*source)};
  const GgufArray* tokens = file.GetArray("tokenizer.ggml.tokens");
  const auto token = [&](std::string_view key) -> std::optional<std::string> {
    const std::optional<uint64_t> id = file.GetUint(key);
    if (!id || tokens == nullptr || *id >= tokens->items.size()) return std::nullopt;
    const std::string* text = tokens->items[*id].AsString();
    return text ? std::optional(*text) : std::nullopt;
  };
  out.bos_token = token("tokenizer.ggml.bos_token_id");
  out.eos_token = token("tokenizer.ggml.eos_token_id");
  return out;
}

}  // namespace

StatusOr<ChatTemplateSource> ChatTemplateFromTokenizerConfig(std::string_view json_text,
                                                             std::string_view name) {
  const nlohmann::ordered_json config =
      nlohmann::ordered_json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object()) {
    return InvalidArgumentError(std::string(name) + ": not a JSON object");
  }
  const auto it = config.find("chat_template");
  if (it == config.end()) return NotFoundError(std::string(name) + ": no chat_template key");
  ChatTemplateSource out;
  if (it->is_string()) {
    out.source = it->get<std::string>();
  } else if (it->is_array()) {
    // [{"name": "default", "template": ...}, {"name": "tool_use", ...}]
    for (const auto& entry : *it) {
      if (entry.is_object() && entry.value("name", "") == "default" && entry.contains("template") &&
          entry["template"].is_string()) {
        out.source = entry["template"].get<std::string>();
      }
    }
    if (out.source.empty()) {
      return NotFoundError(std::string(name) + ": chat_template list has no \"default\" entry");
    }
  } else {
    return InvalidArgumentError(std::string(name) + ": chat_template is not a string or list");
  }
  out.bos_token = SpecialToken(config, "bos_token");
  out.eos_token = SpecialToken(config, "eos_token");
  return out;
}

StatusOr<ChatTemplateSource> LoadChatTemplateSource(const std::string& path) {
  DSI_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  if (bytes.compare(0, 4, "GGUF") == 0) return FromGguf(path);
  const bool is_json = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
  if (is_json) return ChatTemplateFromTokenizerConfig(bytes, path);
  return ChatTemplateSource{.source = std::move(bytes)};
}

}  // namespace dsinfer::tokenizer
