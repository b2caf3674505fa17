#include "base/check.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace dsinfer::internal {

void CheckFailed(const char* file, int line, const char* condition, const char* format, ...) {
  std::fprintf(stderr, "dsinfer: CHECK failed at %s:%d: %s", file, line, condition);
  va_list args;
  va_start(args, format);
  if (format != nullptr) {
    std::fputs(": ", stderr);
    // The analyzer loses va_start across the format attribute; args is initialised above.
    std::vfprintf(stderr, format, args);  // NOLINT(clang-analyzer-valist.Uninitialized)
  }
  va_end(args);
  std::fputc('\n', stderr);
  std::fflush(stderr);
  std::abort();
}

}  // namespace dsinfer::internal
