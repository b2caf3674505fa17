// `dsinfer chat-template -m SOURCE [--add-generation-prompt] < messages.json`: renders a
// model's chat template for a conversation and prints the prompt text exactly (no newline
// added). SOURCE is a tokenizer_config.json, a GGUF file or a .jinja file. stdin holds either
// a JSON array of messages or an object {"messages": [...], "tools": [...], other variables}.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>

#include "app/commands.h"
#include "tokenizer/chat_template.h"

namespace dsinfer {

void RegisterChatTemplateCommand(CLI::App& app, CommandFn* run) {
  CLI::App* cmd = app.add_subcommand("chat-template",
                                     "Render a chat template for messages read from stdin (JSON)");
  struct Args {
    std::string source;
    bool add_generation_prompt = false;
    std::optional<std::string> bos_token;
    std::optional<std::string> eos_token;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("-m,--model", args->source, "tokenizer_config.json, GGUF file or .jinja template")
      ->required();
  cmd->add_flag("--add-generation-prompt", args->add_generation_prompt,
                "end with the assistant turn's opening");
  cmd->add_option("--bos-token", args->bos_token, "override the BOS token text");
  cmd->add_option("--eos-token", args->eos_token, "override the EOS token text");
  cmd->callback([run, args] {
    *run = [args] {
      constexpr const char* kName = "dsinfer chat-template";
      const StatusOr<tokenizer::ChatTemplateSource> source =
          tokenizer::LoadChatTemplateSource(args->source);
      if (!source.ok()) return ReportError(kName, source.status().message());
      const std::string input((std::istreambuf_iterator<char>(std::cin)),
                              std::istreambuf_iterator<char>());
      nlohmann::ordered_json json =
          nlohmann::ordered_json::parse(input, nullptr, /*allow_exceptions=*/false);
      if (json.is_discarded()) return ReportError(kName, "stdin: not valid JSON");
      tokenizer::ChatTemplateInputs inputs;
      inputs.add_generation_prompt = args->add_generation_prompt;
      inputs.bos_token = args->bos_token ? args->bos_token : source->bos_token;
      inputs.eos_token = args->eos_token ? args->eos_token : source->eos_token;
      if (json.is_array()) {
        inputs.messages = std::move(json);
      } else if (json.is_object() && json.contains("messages")) {
        for (auto& [key, value] : json.items()) {
          if (key == "messages") {
            inputs.messages = value;
          } else if (key == "tools") {
            if (!value.is_null()) inputs.tools = value;
          } else if (key == "add_generation_prompt") {
            inputs.add_generation_prompt = inputs.add_generation_prompt || value == true;
          } else {
            inputs.extra[key] = value;
          }
        }
      } else {
        return ReportError(kName,
                           "stdin: expected a JSON array of messages or an object "
                           "with \"messages\"");
      }
      const StatusOr<tokenizer::ChatTemplate> tmpl = tokenizer::ChatTemplate::Parse(source->source);
      if (!tmpl.ok())
        return ReportError(kName, args->source + ": " + std::string(tmpl.status().message()));
      const StatusOr<std::string> text = tmpl->Render(inputs);
      if (!text.ok())
        return ReportError(kName, args->source + ": " + std::string(text.status().message()));
      std::fwrite(text->data(), 1, text->size(), stdout);
      return std::fflush(stdout) == 0 ? 0 : ReportError(kName, "write to stdout failed");
    };
  });
}

}  // namespace dsinfer
