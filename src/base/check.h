// CHECK and DCHECK: for broken invariants of our own code, never for bad input.
//
// A failed check prints file:line, the condition and an optional printf-style message to
// stderr and aborts. Bad input from files, sockets or users is a Status, not a CHECK.
// DCHECK compiles to nothing in release builds (NDEBUG) but still type-checks its argument.
#ifndef DSINFER_BASE_CHECK_H_
#define DSINFER_BASE_CHECK_H_

namespace dsinfer::internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition, const char* format,
                              ...) __attribute__((format(printf, 4, 5)));
}  // namespace dsinfer::internal

#define DSI_CHECK(cond) \
  ((cond) ? (void)0 : ::dsinfer::internal::CheckFailed(__FILE__, __LINE__, #cond, nullptr))

#define DSI_CHECK_MSG(cond, ...) \
  ((cond) ? (void)0 : ::dsinfer::internal::CheckFailed(__FILE__, __LINE__, #cond, __VA_ARGS__))

#ifdef NDEBUG
#define DSI_DCHECK(cond) ((void)sizeof(!(cond)))
#else
#define DSI_DCHECK(cond) DSI_CHECK(cond)
#endif

#endif  // DSINFER_BASE_CHECK_H_
