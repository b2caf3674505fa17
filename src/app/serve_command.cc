// `dsinfer serve -m MODEL [--host 127.0.0.1] [--port 8080] [--threads N] [--config FILE]
// [--<option> VALUE]...`: the OpenAI-compatible HTTP server (server/server.h). Every option
// of server/server_config.h is both a YAML key of --config and a flag; flags win.
//
// Start-up order: HTTP first (so /health answers and /ready says "loading" during a long
// load), then the model, tokenizer and chat template, then the engine, then ready.
// SIGTERM or SIGINT drains: /ready turns 503, new generation requests get 503, in-flight ones
// finish (up to drain_timeout; a second signal cuts it short), then the process exits 0.
#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "app/command_options.h"
#include "app/commands.h"
#include "base/logging.h"
#include "engine/engine.h"
#include "model/load_model.h"
#include "platform/thread_pool.h"
#include "server/openai_api.h"
#include "server/server.h"
#include "server/server_config.h"
#include "telemetry/access_log.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/load_tokenizer.h"

namespace dsinfer {
namespace {

constexpr const char* kServeCommand = "dsinfer serve";

struct ServeArgs {
  std::string config_file;
  // One raw value per ServeOptionTable() entry, applied only when its flag was given.
  std::vector<std::string> values;
  std::vector<CLI::Option*> flags;
};

// Blocks SIGTERM and SIGINT in this thread and every thread it starts later, so that they
// are only ever taken by WaitForSignal.
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// The signal taken, or 0 when `timeout` passed without one.
int WaitForSignal(const sigset_t& set, std::chrono::milliseconds timeout) {
  const timespec wait{.tv_sec = static_cast<time_t>(timeout.count() / 1000),
                      .tv_nsec = static_cast<long>(timeout.count() % 1000) * 1'000'000};
  const int signal = sigtimedwait(&set, nullptr, &wait);
  return signal > 0 ? signal : 0;
}

// Where the chat template is when --chat-template is not given: tokenizer_config.json in
// the tokenizer's directory or beside its tokenizer.json; a GGUF carries its own.
std::string DefaultTemplatePath(const std::string& tokenizer_path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(tokenizer_path, ec)) {
    return (fs::path(tokenizer_path) / "tokenizer_config.json").string();
  }
  if (tokenizer_path.ends_with(".json")) {
    return (fs::path(tokenizer_path).parent_path() / "tokenizer_config.json").string();
  }
  return tokenizer_path;
}

std::string DefaultModelId(const std::string& model_path) {
  namespace fs = std::filesystem;
  fs::path path(model_path);
  if (!path.has_filename()) path = path.parent_path();  // "dir/"
  return path.has_extension() && path.extension() == ".gguf" ? path.stem().string()
                                                             : path.filename().string();
}

StatusOr<server::ServeConfig> ResolveConfig(const ServeArgs& args) {
  server::ServeConfig config;
  if (!args.config_file.empty()) {
    DSI_RETURN_IF_ERROR(server::ApplyServeConfigFile(&config, args.config_file));
  }
  const std::span<const server::ServeOption> table = server::ServeOptionTable();
  for (size_t i = 0; i < table.size(); ++i) {
    if (args.flags[i]->count() == 0) continue;
    DSI_RETURN_IF_ERROR(server::SetServeOption(&config, table[i].key, args.values[i])
                            .WithContext(server::FlagName(table[i].key)));
  }
  DSI_RETURN_IF_ERROR(server::ValidateServeConfig(config));
  return config;
}

// Everything the engine borrows, loaded once and alive until the process ends serving.
struct LoadedModel {
  std::unique_ptr<Model> model;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  std::unique_ptr<tokenizer::ChatTemplate> chat_template;  // null: chat completions 400
  tokenizer::ChatTemplateSource template_source;
};

StatusOr<LoadedModel> Load(const server::ServeConfig& config) {
  LoadedModel loaded;
  const int threads = ThreadCount(static_cast<int>(config.threads));
  ThreadPool pool(threads);
  DSI_ASSIGN_OR_RETURN(const TypeRequest hf_type, ParseTypeRequest(config.hf_type));
  DSI_ASSIGN_OR_RETURN(Model model, LoadModel(config.model, {.hf_type = hf_type}, &pool));
  loaded.model = std::make_unique<Model>(std::move(model));
  const std::string tokenizer_path = config.tokenizer.empty() ? config.model : config.tokenizer;
  DSI_ASSIGN_OR_RETURN(tokenizer::Tokenizer tok, tokenizer::LoadTokenizer(tokenizer_path));
  loaded.tokenizer = std::make_unique<tokenizer::Tokenizer>(std::move(tok));

  const std::string template_path =
      config.chat_template.empty() ? DefaultTemplatePath(tokenizer_path) : config.chat_template;
  StatusOr<tokenizer::ChatTemplateSource> source = tokenizer::LoadChatTemplateSource(template_path);
  if (!source.ok() && !config.chat_template.empty()) return source.status();
  if (!source.ok()) {
    LogWarn("{}: no chat template ({}); /v1/chat/completions will answer 400", kServeCommand,
            source.status().message());
    return loaded;
  }
  DSI_ASSIGN_OR_RETURN(tokenizer::ChatTemplate parsed,
                       tokenizer::ChatTemplate::Parse(source->source));
  loaded.chat_template = std::make_unique<tokenizer::ChatTemplate>(std::move(parsed));
  loaded.template_source = std::move(*source);
  return loaded;
}

server::ServedModel ServedModelFor(const server::ServeConfig& config, const LoadedModel& loaded,
                                   const engine::Engine& engine) {
  server::ServedModel served;
  served.id =
      config.served_model_name.empty() ? DefaultModelId(config.model) : config.served_model_name;
  served.created = static_cast<int64_t>(std::time(nullptr));
  served.tokenizer = loaded.tokenizer.get();
  served.chat_template = loaded.chat_template.get();
  served.bos_token = loaded.template_source.bos_token;
  served.eos_token = loaded.template_source.eos_token;
  served.max_model_len = engine.max_model_len();
  served.vocab_size = static_cast<int32_t>(loaded.model->config().vocab_size);
  // R1-style templates drop "</think>" reasoning from earlier turns: such models think.
  served.reasoning = loaded.template_source.source.find("</think>") != std::string::npos;
  return served;
}

int Serve(const ServeArgs& args) {
  const sigset_t stop_signals = BlockStopSignals();
  StatusOr<server::ServeConfig> config = ResolveConfig(args);
  if (!config.ok()) return ReportError(kServeCommand, config.status().message());
  StatusOr<std::unique_ptr<telemetry::AccessLog>> access_log =
      telemetry::AccessLog::Open(config->access_log);
  if (!access_log.ok()) return ReportError(kServeCommand, access_log.status().message());

  StatusOr<std::unique_ptr<server::Server>> server =
      server::Server::Start(server::HttpOptionsFor(*config), access_log->get());
  if (!server.ok()) return ReportError(kServeCommand, server.status().message());
  LogInfo("{}: listening on http://{}:{} (loading {})", kServeCommand, config->host,
          (*server)->port(), config->model);

  StatusOr<LoadedModel> loaded = Load(*config);
  if (!loaded.ok()) return ReportError(kServeCommand, loaded.status().message());
  engine::EngineOptions engine_options = server::EngineOptionsFor(*config);
  telemetry::ServerMetrics* metrics = &(*server)->metrics();
  engine_options.on_step = [metrics](int64_t sequences, int64_t) {
    metrics->ObserveBatchSize(sequences);
  };
  StatusOr<std::unique_ptr<engine::Engine>> engine =
      engine::Engine::Start(loaded->model.get(), loaded->tokenizer.get(), engine_options);
  if (!engine.ok()) return ReportError(kServeCommand, engine.status().message());
  server::ServedModel served = ServedModelFor(*config, *loaded, **engine);
  const std::string model_id = served.id;
  (*server)->SetBackend(std::move(served), engine->get());
  LogInfo("{}: ready: model '{}', context {} tokens{}", kServeCommand, model_id,
          (*engine)->max_model_len(), loaded->chat_template != nullptr ? "" : ", no chat template");

  int signal = 0;
  while (signal == 0) signal = WaitForSignal(stop_signals, std::chrono::milliseconds(1000));
  LogInfo("{}: {}: draining (up to {} s)", kServeCommand, strsignal(signal), config->drain_timeout);
  (*server)->Drain();
  const auto deadline =
      std::chrono::steady_clock::now() +
      std::chrono::milliseconds(static_cast<int64_t>(config->drain_timeout * 1000));
  bool idle = false;
  while (!idle && std::chrono::steady_clock::now() < deadline) {
    idle = (*server)->WaitUntilIdle(std::chrono::milliseconds(100));
    if (!idle && WaitForSignal(stop_signals, std::chrono::milliseconds(0)) != 0) break;
  }
  if (!idle) LogWarn("{}: stopping with requests in flight (cancelled)", kServeCommand);
  // HTTP first: closing connections cancels what is left; then the engine finishes and lets
  // go of the last exchanges.
  (*server)->Stop();
  (*engine)->Shutdown();
  LogInfo("{}: stopped", kServeCommand);
  return 0;
}

}  // namespace

void RegisterServeCommand(CLI::App& app, CommandFn* run) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "Serve a model over an OpenAI-compatible HTTP API (/v1/chat/completions, ...)");
  cmd->add_option("--config", args->config_file,
                  "YAML file of options (keys as the flags below, with '_'); flags win");
  const std::span<const server::ServeOption> table = server::ServeOptionTable();
  const server::ServeConfig defaults;
  args->values.resize(table.size());
  for (size_t i = 0; i < table.size(); ++i) {
    const std::string key(table[i].key);
    const std::string names = key == "model" ? "-m,--model" : server::FlagName(key);
    CLI::Option* flag = cmd->add_option(names, args->values[i], std::string(table[i].help));
    // Help shows each option's type and default; the value itself stays unset unless given.
    std::visit(
        [&](auto field) {
          using Value = std::remove_cvref_t<decltype(defaults.*field)>;
          if constexpr (std::is_same_v<Value, std::string>) {
            flag->type_name("TEXT");
            if (!(defaults.*field).empty()) flag->default_str(defaults.*field);
          } else {
            flag->type_name(std::is_same_v<Value, double> ? "NUMBER" : "INT");
            flag->default_str(fmt::format("{}", defaults.*field));
          }
        },
        table[i].field);
    args->flags.push_back(flag);
  }
  cmd->callback([run, args] { *run = [args] { return Serve(*args); }; });
}

}  // namespace dsinfer
