// Process-wide logging on spdlog: levels, and a JSON-lines mode for log shippers.
//
// Call InitLogging() once at start-up (before threads start); afterwards the log functions
// are thread-safe. In JSON mode each record is one line:
//   {"ts":"2026-11-28T17:00:00.123Z","level":"info","msg":"..."}
// with the message JSON-escaped, so a prompt-free log can be parsed line by line.
#ifndef DSINFER_BASE_LOGGING_H_
#define DSINFER_BASE_LOGGING_H_

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

#include "base/status.h"

namespace dsinfer {

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kOff };

struct LogOptions {
  LogLevel level = LogLevel::kInfo;
  bool json = false;
  spdlog::sink_ptr sink;  // where records go; null means stderr (tests pass their own)
};

// Parses "trace|debug|info|warn|error|off".
StatusOr<LogLevel> ParseLogLevel(std::string_view name);

// Logs go to stderr unless options.sink says otherwise; stdout stays free for command output.
void InitLogging(const LogOptions& options);

// Escapes `text` for inclusion inside a JSON string literal (without the quotes).
std::string JsonEscape(std::string_view text);

template <typename... Args>
void LogInfo(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::info(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void LogWarn(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::warn(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void LogError(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::error(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void LogDebug(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::debug(fmt, std::forward<Args>(args)...);
}

}  // namespace dsinfer

#endif  // DSINFER_BASE_LOGGING_H_
