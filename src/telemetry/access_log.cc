#include "telemetry/access_log.h"

#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace dsinfer::telemetry {
namespace {

// "2026-11-28T17:00:00.123Z"
std::string IsoUtc(std::chrono::system_clock::time_point time) {
  const auto since_epoch = time.time_since_epoch();
  const std::time_t seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
}

template <typename T>
void PutIf(nlohmann::ordered_json& json, const char* key, const std::optional<T>& value) {
  if (value.has_value()) json[key] = *value;
}

}  // namespace

std::string FormatAccessLogLine(const AccessLogRecord& record) {
  nlohmann::ordered_json json;
  json["ts"] = IsoUtc(record.time);
  json["request_id"] = record.request_id;
  json["method"] = record.method;
  json["route"] = record.route;
  json["status"] = record.status;
  PutIf(json, "model", record.model);
  PutIf(json, "stream", record.stream);
  PutIf(json, "prompt_tokens", record.prompt_tokens);
  PutIf(json, "completion_tokens", record.completion_tokens);
  PutIf(json, "cached_tokens", record.cached_tokens);
  PutIf(json, "finish_reason", record.finish_reason);
  PutIf(json, "queue_s", record.queue_seconds);
  PutIf(json, "ttft_s", record.first_token_seconds);
  json["duration_s"] = record.duration_seconds;
  json["remote"] = record.remote;
  // Paths and ids come from clients: replace invalid UTF-8 rather than throw.
  return json.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

StatusOr<std::unique_ptr<AccessLog>> AccessLog::Open(const std::string& path) {
  if (path.empty()) return std::unique_ptr<AccessLog>(new AccessLog(nullptr, false));
  if (path == "-") return std::unique_ptr<AccessLog>(new AccessLog(stderr, false));
  std::FILE* file = std::fopen(path.c_str(), "ae");
  if (file == nullptr) {
    return InvalidArgumentError(
        fmt::format("access log {}: cannot open for appending: {}", path, std::strerror(errno)));
  }
  return std::unique_ptr<AccessLog>(new AccessLog(file, true));
}

AccessLog::~AccessLog() {
  if (owned_ && file_ != nullptr) std::fclose(file_);
}

void AccessLog::Write(const AccessLogRecord& record) {
  if (file_ == nullptr) return;
  const std::string line = FormatAccessLogLine(record);
  const std::lock_guard<std::mutex> lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

}  // namespace dsinfer::telemetry
