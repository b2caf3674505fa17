#include "base/check.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace dsinfer::internal {

void CheckFailed(const char* file, int line, const char* condition, const char* format, ...) {
  std::fprintf(stderr, "dsinfer: CHECK failed at %s:%d: %s", file, line, condition);
  if (format != nullptr) {
    std::fputs(": ", stderr);
    va_list args;
    va_start(args, format);
    std::vfprintf(stderr, format, args);
    va_end(args);
  }
  std::fputc('\n', stderr);
  std::fflush(stderr);
  std::abort();
}

}  // namespace dsinfer::internal
