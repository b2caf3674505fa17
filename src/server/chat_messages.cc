// ChatTemplateInputsFromRequest: messages, tools and template variables of a chat request.
#include "server/chat_messages.h"

#include <fmt/format.h>

namespace dsinfer::server {
namespace {

// A text part list joined as vLLM joins it; any other part type is a 400.
ApiOr<std::string> JoinTextParts(const Json& parts, const std::string& path) {
  std::string text;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Json& part = parts[i];
    const std::string part_path = fmt::format("{}[{}]", path, i);
    if (!part.is_object()) return TypeError(part_path, "an object", part);
    const auto type = part.find("type");
    if (type == part.end() || !type->is_string()) {
      return FieldError(part_path + ".type", "must be a string");
    }
    if (*type != "text") {
      return FieldError(
          part_path + ".type",
          fmt::format("{} is not supported (only \"text\" parts)", DescribeValue(*type)));
    }
    const auto part_text = part.find("text");
    if (part_text == part.end() || !part_text->is_string()) {
      return TypeError(part_path + ".text", "a string",
                       part_text == part.end() ? Json(nullptr) : *part_text);
    }
    if (i > 0) text += '\n';
    text += part_text->get_ref<const std::string&>();
  }
  return text;
}

ApiOr<Json> TemplateMessage(const Json& message, size_t index) {
  const std::string path = fmt::format("messages[{}]", index);
  if (!message.is_object()) return TypeError(path, "an object", message);
  const RequestFields fields(message, path + ".");

  const Json* role = fields.Find("role");
  if (role == nullptr) return FieldError(path + ".role", "is required");
  constexpr std::string_view kRoles =
      "one of \"system\", \"developer\", \"user\", \"assistant\", \"tool\"";
  if (!role->is_string()) return TypeError(path + ".role", kRoles, *role);
  std::string role_name = role->get<std::string>();
  if (role_name != "system" && role_name != "developer" && role_name != "user" &&
      role_name != "assistant" && role_name != "tool") {
    return TypeError(path + ".role", kRoles, *role);
  }
  if (role_name == "developer") role_name = "system";

  Json out = Json::object();
  out["role"] = role_name;

  const Json* tool_calls = fields.Find("tool_calls");
  if (tool_calls != nullptr) {
    if (role_name != "assistant") {
      return FieldError(path + ".tool_calls", "is only allowed in assistant messages");
    }
    if (!tool_calls->is_array()) {
      return TypeError(path + ".tool_calls", "an array of objects", *tool_calls);
    }
    for (size_t i = 0; i < tool_calls->size(); ++i) {
      if (!(*tool_calls)[i].is_object()) {
        return TypeError(fmt::format("{}.tool_calls[{}]", path, i), "an object", (*tool_calls)[i]);
      }
    }
  }

  const Json* content = fields.Find("content");
  if (content == nullptr) {
    // Only an assistant turn that calls tools may have no content (null, as OpenAI sends it).
    if (role_name != "assistant" || tool_calls == nullptr) {
      return FieldError(path + ".content", "is required");
    }
    out["content"] = nullptr;
  } else if (content->is_string()) {
    out["content"] = *content;
  } else if (content->is_array()) {
    ApiOr<std::string> text = JoinTextParts(*content, path + ".content");
    if (!text.ok()) return text.error();
    out["content"] = std::move(text).value();
  } else {
    return TypeError(path + ".content", "a string or an array of text parts", *content);
  }

  std::optional<std::string> name;
  if (MaybeError error = fields.String("name", &name)) return *std::move(error);
  if (name.has_value()) out["name"] = *name;
  if (tool_calls != nullptr) out["tool_calls"] = *tool_calls;
  std::optional<std::string> tool_call_id;
  if (MaybeError error = fields.String("tool_call_id", &tool_call_id)) return *std::move(error);
  if (tool_call_id.has_value()) out["tool_call_id"] = *tool_call_id;
  return out;
}

// The text of a special token id, for the template's bos_token / eos_token.
std::optional<std::string> TokenText(const tokenizer::Tokenizer& tok, std::optional<int32_t> id) {
  if (!id.has_value()) return std::nullopt;
  const std::optional<std::string_view> bytes = tok.TokenBytes(*id);
  if (!bytes.has_value()) return std::nullopt;
  return std::string(*bytes);
}

}  // namespace

ApiOr<tokenizer::ChatTemplateInputs> ChatTemplateInputsFromRequest(const RequestFields& fields,
                                                                   const ServedModel& model) {
  tokenizer::ChatTemplateInputs inputs;
  inputs.add_generation_prompt = true;
  inputs.bos_token =
      model.bos_token ? model.bos_token : TokenText(*model.tokenizer, model.tokenizer->bos_id());
  inputs.eos_token =
      model.eos_token ? model.eos_token : TokenText(*model.tokenizer, model.tokenizer->eos_id());

  const Json* messages = fields.Find("messages");
  if (messages == nullptr) return FieldError("messages", "is required");
  if (!messages->is_array()) return TypeError("messages", "an array of messages", *messages);
  if (messages->empty()) return FieldError("messages", "must hold at least one message");
  for (size_t i = 0; i < messages->size(); ++i) {
    ApiOr<Json> message = TemplateMessage((*messages)[i], i);
    if (!message.ok()) return message.error();
    inputs.messages.push_back(std::move(message).value());
  }

  if (const Json* tools = fields.Find("tools")) {
    if (!tools->is_array()) return TypeError("tools", "an array of tool objects", *tools);
    for (size_t i = 0; i < tools->size(); ++i) {
      if (!(*tools)[i].is_object()) {
        return TypeError(fmt::format("tools[{}]", i), "an object", (*tools)[i]);
      }
    }
    // tool_choice "none": the model must not call tools, so it is not shown them.
    const Json* choice = fields.Find("tool_choice");
    const bool none = choice != nullptr && choice->is_string() && *choice == "none";
    if (!tools->empty() && !none) inputs.tools = *tools;
  }

  // vLLM's extension: extra variables for the template (e.g. {"thinking": true}).
  if (const Json* kwargs = fields.Find("chat_template_kwargs")) {
    if (!kwargs->is_object()) return TypeError("chat_template_kwargs", "an object", *kwargs);
    // Not the variables the request's own fields set: those were checked above.
    for (const auto& [key, value] : kwargs->items()) {
      if (key != "messages" && key != "tools" && key != "documents") inputs.extra[key] = value;
    }
  }
  return inputs;
}

}  // namespace dsinfer::server
