// ServeConfig: every option of `dsinfer serve`, settable from a YAML file (--config) and from
// command-line flags with the same names (key `max_body_bytes` is flag --max-body-bytes).
// Flags win over the file; the file wins over the defaults. An unknown key, a wrong type or a
// value out of range is an error naming the key (and the file line), never ignored.
//
//   # dsinfer.yaml
//   model: /models/deepseek-v2-lite-q4_k.gguf
//   host: 0.0.0.0
//   port: 8080
//   max_num_seqs: 32
//   access_log: /var/log/dsinfer/access.jsonl
//
// ServeOptionTable() lists the options (key, help, type) once, for the YAML loader, the CLI
// and the docs alike.
#ifndef DSINFER_SERVER_SERVER_CONFIG_H_
#define DSINFER_SERVER_SERVER_CONFIG_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "base/status.h"
#include "engine/engine.h"
#include "server/http_server.h"

namespace dsinfer::server {

struct ServeConfig {
  // The model.
  std::string model;              // GGUF file or HF directory
  std::string served_model_name;  // the API's model id; "" = the file name without extension
  std::string tokenizer;          // tokenizer.json or its directory; "" = the model's own
  std::string chat_template;      // .jinja or tokenizer_config.json; "" = beside the tokenizer
  std::string hf_type = "q8_0";   // an HF checkpoint's matrices at load: a type or Q4_K_M, ...
  // HTTP.
  std::string host = "127.0.0.1";
  int64_t port = 8080;  // 0: any free port (logged at start-up)
  int64_t http_threads = 2;
  int64_t max_connections = 10'000;
  int64_t max_body_bytes = int64_t{4} << 20;
  int64_t max_header_bytes = int64_t{16} << 10;
  double header_timeout = 10;  // seconds
  double body_timeout = 30;
  double idle_timeout = 60;
  double write_timeout = 30;
  double drain_timeout = 60;     // SIGTERM: how long in-flight requests may take to finish
  std::string access_log = "-";  // "-" stderr, "" off, or a file
  // Engine.
  int64_t threads = 0;  // compute threads; 0: all cores
  int64_t kv_cache_bytes = 0;
  double kv_cache_fraction = 0.5;
  int64_t block_size = 16;
  int64_t max_num_seqs = 64;
  int64_t max_num_batched_tokens = 2048;
  int64_t max_queue = 1024;
  int64_t max_model_len = 0;
};

struct ServeOption {
  using Field =
      std::variant<std::string ServeConfig::*, int64_t ServeConfig::*, double ServeConfig::*>;
  std::string_view key;
  std::string_view help;
  Field field;
  double min = 0;  // numbers: allowed range, inclusive
  double max = 0;
};

std::span<const ServeOption> ServeOptionTable();

// "--max-body-bytes" for "max_body_bytes".
std::string FlagName(std::string_view key);

// Sets one option from text, as a flag gives it. InvalidArgument naming the key when the key
// is unknown or the value does not parse or is out of range.
Status SetServeOption(ServeConfig* config, std::string_view key, std::string_view value);

// Applies a YAML document (a flat mapping of option keys) on top of `config`. `source` names
// the document in errors ("dsinfer.yaml:4: unknown key 'prot'").
Status ApplyServeConfigYaml(ServeConfig* config, std::string_view yaml, std::string_view source);
Status ApplyServeConfigFile(ServeConfig* config, const std::string& path);

// Cross-option checks after everything is applied (the model is given, ...).
Status ValidateServeConfig(const ServeConfig& config);

HttpServerOptions HttpOptionsFor(const ServeConfig& config);
engine::EngineOptions EngineOptionsFor(const ServeConfig& config);

}  // namespace dsinfer::server

#endif  // DSINFER_SERVER_SERVER_CONFIG_H_
