// The access log: one JSON object per line for every answered HTTP request, for log
// shippers. Records carry ids, route, status, token counts and timings; never prompt or
// completion text (DESIGN.md "security": no prompt text by default), so the log is safe to
// ship off the machine.
//
//   {"ts":"2026-11-28T17:00:00.123Z","request_id":"req-1f","method":"POST",
//    "route":"/v1/chat/completions","status":200,"model":"tiny","stream":true,
//    "prompt_tokens":12,"completion_tokens":30,"cached_tokens":0,"finish_reason":"stop",
//    "queue_s":0.0004,"ttft_s":0.012,"duration_s":0.31,"remote":"127.0.0.1"}
//
// Optional fields (model and after) are omitted when the request did not reach the engine.
//
// Thread safety: FormatAccessLogLine is pure; AccessLog::Write may be called from any thread
// (a mutex keeps lines whole).
#ifndef DSINFER_TELEMETRY_ACCESS_LOG_H_
#define DSINFER_TELEMETRY_ACCESS_LOG_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/status.h"

namespace dsinfer::telemetry {

struct AccessLogRecord {
  std::chrono::system_clock::time_point time;  // when the request arrived
  std::string request_id;
  std::string method;
  std::string route;  // the path as requested, query string excluded
  int status = 0;
  std::string remote;  // client address
  // Generation requests only.
  std::optional<std::string> model;
  std::optional<bool> stream;
  std::optional<int32_t> prompt_tokens;
  std::optional<int32_t> completion_tokens;
  std::optional<int32_t> cached_tokens;
  std::optional<std::string> finish_reason;  // "stop", "length", "cancelled", "error"
  std::optional<double> queue_seconds;
  std::optional<double> first_token_seconds;
  double duration_seconds = 0;  // arrival to last byte queued
};

// The record as one JSON line, newline included.
std::string FormatAccessLogLine(const AccessLogRecord& record);

class AccessLog {
 public:
  // `path`: "-" for stderr, "" to discard, otherwise a file opened for appending.
  static StatusOr<std::unique_ptr<AccessLog>> Open(const std::string& path);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void Write(const AccessLogRecord& record);

 private:
  AccessLog(std::FILE* file, bool owned) : file_(file), owned_(owned) {}

  std::mutex mutex_;
  std::FILE* file_;  // null: discard
  bool owned_;
};

}  // namespace dsinfer::telemetry

#endif  // DSINFER_TELEMETRY_ACCESS_LOG_H_
