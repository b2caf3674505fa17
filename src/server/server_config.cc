#include "server/server_config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "model/tensor_type_rules.h"

namespace dsinfer::server {
namespace {

using C = ServeConfig;
constexpr double kMaxInt = 9.0e15;  // exact in a double
constexpr double kDay = 86'400;

constexpr ServeOption kOptions[] = {
    {"model", "model: a GGUF file or an HF directory (required)", &C::model},
    {"served_model_name", "model id clients send (default: the model file's name)",
     &C::served_model_name},
    {"tokenizer", "tokenizer.json (or its directory) instead of the model's own", &C::tokenizer},
    {"chat_template",
     "chat template: a .jinja file or a tokenizer_config.json (default: the tokenizer's "
     "tokenizer_config.json, or the GGUF's template)",
     &C::chat_template},
    {"hf_type",
     "type an HF checkpoint's matrices are converted to at load: a weight type (q8_0, q4_k, "
     "bf16, ...) or one of llama.cpp's mixtures (Q4_K_M, ...)",
     &C::hf_type},
    {"host", "address to listen on", &C::host},
    {"port", "TCP port (0: any free port)", &C::port, 0, 65535},
    {"http_threads", "I/O threads serving connections", &C::http_threads, 1, 256},
    {"max_connections", "open connections beyond this are refused", &C::max_connections, 1,
     1'000'000},
    {"max_body_bytes", "request bodies over this get 413", &C::max_body_bytes, 1, 1 << 30},
    {"max_header_bytes", "request headers over this get 431", &C::max_header_bytes, 256, 1 << 20},
    {"header_timeout", "seconds a request's headers may take (408 after)", &C::header_timeout,
     0.001, kDay},
    {"body_timeout", "seconds a request's body may take (408 after)", &C::body_timeout, 0.001,
     kDay},
    {"idle_timeout", "seconds an idle keep-alive connection stays open", &C::idle_timeout, 0.001,
     kDay},
    {"write_timeout", "seconds one socket write may take before the connection is dropped",
     &C::write_timeout, 0.001, kDay},
    {"drain_timeout", "seconds in-flight requests may take to finish after SIGTERM",
     &C::drain_timeout, 0, kDay},
    {"access_log", "JSON-lines access log: a file, '-' for stderr, '' for none", &C::access_log},
    {"threads", "compute threads (0: all cores)", &C::threads, 0, 4096},
    {"kv_cache_bytes", "KV-cache size in bytes (0: kv_cache_fraction of free memory)",
     &C::kv_cache_bytes, 0, kMaxInt},
    {"kv_cache_fraction", "share of free memory for the KV cache when kv_cache_bytes is 0",
     &C::kv_cache_fraction, 0.001, 0.95},
    {"block_size", "tokens per KV-cache block", &C::block_size, 1, 1024},
    {"max_num_seqs", "most sequences in one batch", &C::max_num_seqs, 1, 65'536},
    {"max_num_batched_tokens", "most tokens in one engine step", &C::max_num_batched_tokens, 1,
     1 << 24},
    {"max_queue", "waiting requests beyond this get 429", &C::max_queue, 0, 1 << 24},
    {"max_model_len", "context length (0: the model's)", &C::max_model_len, 0, 1 << 30},
};

const ServeOption* FindOption(std::string_view key) {
  for (const ServeOption& option : kOptions) {
    if (option.key == key) return &option;
  }
  return nullptr;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string UnknownKeyMessage(std::string_view key) {
  std::string message = fmt::format("unknown key '{}'", key);
  const ServeOption* best = nullptr;
  size_t best_distance = 3;  // suggest only near misses
  for (const ServeOption& option : kOptions) {
    const size_t distance = EditDistance(key, option.key);
    if (distance < best_distance) {
      best = &option;
      best_distance = distance;
    }
  }
  if (best != nullptr) message += fmt::format(" (did you mean '{}'?)", best->key);
  return message;
}

Status CheckRange(const ServeOption& option, double value, std::string_view text) {
  if (!(value >= option.min && value <= option.max)) {
    return InvalidArgumentError(
        fmt::format("'{}' must be in {}..{}, got {}", option.key, option.min, option.max, text));
  }
  return Status::Ok();
}

Status SetField(ServeConfig* config, const ServeOption& option, std::string_view text) {
  if (auto* field = std::get_if<std::string C::*>(&option.field)) {
    config->** field = std::string(text);
    return Status::Ok();
  }
  if (auto* field = std::get_if<int64_t C::*>(&option.field)) {
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) {
      return InvalidArgumentError(
          fmt::format("'{}' must be an integer, got '{}'", option.key, text));
    }
    DSI_RETURN_IF_ERROR(CheckRange(option, static_cast<double>(value), text));
    config->** field = value;
    return Status::Ok();
  }
  const auto field = std::get<double C::*>(option.field);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return InvalidArgumentError(fmt::format("'{}' must be a number, got '{}'", option.key, text));
  }
  DSI_RETURN_IF_ERROR(CheckRange(option, value, text));
  config->*field = value;
  return Status::Ok();
}

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1000.0)));
}

}  // namespace

std::span<const ServeOption> ServeOptionTable() { return kOptions; }

std::string FlagName(std::string_view key) {
  std::string flag = "--" + std::string(key);
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

Status SetServeOption(ServeConfig* config, std::string_view key, std::string_view value) {
  const ServeOption* option = FindOption(key);
  if (option == nullptr) return InvalidArgumentError(UnknownKeyMessage(key));
  return SetField(config, *option, value);
}

Status ApplyServeConfigYaml(ServeConfig* config, std::string_view yaml, std::string_view source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(
        fmt::format("{}:{}: not valid YAML: {}", source, e.mark.line + 1, e.msg));
  }
  if (root.IsNull()) return Status::Ok();  // an empty file sets nothing
  if (!root.IsMap()) {
    return InvalidArgumentError(
        fmt::format("{}: must be a mapping of option keys to values", source));
  }
  // Applied to a copy: a file with an error changes nothing.
  ServeConfig updated = *config;
  std::set<std::string, std::less<>> seen;
  for (const auto& entry : root) {
    const int line = entry.first.Mark().line + 1;
    if (!entry.first.IsScalar()) {
      return InvalidArgumentError(fmt::format("{}:{}: keys must be plain names", source, line));
    }
    const std::string key = entry.first.Scalar();
    const ServeOption* option = FindOption(key);
    if (option == nullptr) {
      return InvalidArgumentError(fmt::format("{}:{}: {}", source, line, UnknownKeyMessage(key)));
    }
    if (!seen.insert(key).second) {
      return InvalidArgumentError(fmt::format("{}:{}: '{}' is given twice", source, line, key));
    }
    const YAML::Node& value = entry.second;
    if (value.IsNull() && !std::holds_alternative<std::string C::*>(option->field)) {
      return InvalidArgumentError(fmt::format("{}:{}: '{}' has no value", source, line, key));
    }
    if (!value.IsNull() && !value.IsScalar()) {
      return InvalidArgumentError(fmt::format(
          "{}:{}: '{}' must be a single value, not a list or mapping", source, line, key));
    }
    const Status status = SetField(&updated, *option, value.IsNull() ? "" : value.Scalar());
    if (!status.ok()) return status.WithContext(fmt::format("{}:{}", source, line));
  }
  *config = std::move(updated);
  return Status::Ok();
}

Status ApplyServeConfigFile(ServeConfig* config, const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return NotFoundError(fmt::format("config file {}: cannot open", path));
  std::ostringstream text;
  text << file.rdbuf();
  return ApplyServeConfigYaml(config, text.str(), path);
}

Status ValidateServeConfig(const ServeConfig& config) {
  if (config.model.empty()) {
    return InvalidArgumentError("no model: give -m MODEL or 'model:' in the config file");
  }
  if (config.host.empty()) return InvalidArgumentError("'host' is empty");
  if (Status s = ParseTypeRequest(config.hf_type).status(); !s.ok()) {
    return s.WithContext("'hf_type'");
  }
  return Status::Ok();
}

HttpServerOptions HttpOptionsFor(const ServeConfig& config) {
  HttpServerOptions options;
  options.host = config.host;
  options.port = static_cast<int>(config.port);
  options.io_threads = static_cast<int>(config.http_threads);
  options.max_connections = static_cast<int>(config.max_connections);
  options.max_body_bytes = config.max_body_bytes;
  options.max_header_bytes = config.max_header_bytes;
  options.header_timeout = Millis(config.header_timeout);
  options.body_timeout = Millis(config.body_timeout);
  options.idle_timeout = Millis(config.idle_timeout);
  options.write_timeout = Millis(config.write_timeout);
  return options;
}

engine::EngineOptions EngineOptionsFor(const ServeConfig& config) {
  engine::EngineOptions options;
  options.kv_cache_bytes = config.kv_cache_bytes;
  options.kv_cache_fraction = config.kv_cache_fraction;
  options.block_size = static_cast<int32_t>(config.block_size);
  options.max_num_batched_tokens = static_cast<int32_t>(config.max_num_batched_tokens);
  options.max_num_seqs = static_cast<int32_t>(config.max_num_seqs);
  options.max_queue = static_cast<int32_t>(config.max_queue);
  options.max_model_len = static_cast<int32_t>(config.max_model_len);
  options.threads = static_cast<int>(config.threads);
  return options;
}

}  // namespace dsinfer::server
