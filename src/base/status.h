// Status and StatusOr<T>: errors as values at every layer boundary.
//
// A Status is either OK or a (code, message) pair. Codes are a small closed set chosen so
// that the server layer can map each one to exactly one HTTP status (HttpStatusFor). The
// message names the cause in words a user can act on ("model.gguf: tensor 'blk.0.attn_q.weight'
// extends past end of file"); callers add context with WithContext() as the error travels up.
//
// Thread safety: values, no shared state. Statuses are cheap to move and to copy when OK.
#ifndef DSINFER_BASE_STATUS_H_
#define DSINFER_BASE_STATUS_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "base/check.h"

namespace dsinfer {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is wrong (400)
  kNotFound,            // a named thing does not exist (404)
  kAlreadyExists,       // (409)
  kPermissionDenied,    // authenticated but not allowed (403)
  kUnauthenticated,     // no or bad credentials (401)
  kResourceExhausted,   // quota, queue or memory exhausted (429)
  kFailedPrecondition,  // the system is not in a state to do this (400)
  kOutOfRange,          // a value past a valid range (400)
  kUnimplemented,       // a known construct we do not run (501)
  kInternal,            // a broken invariant of ours (500)
  kUnavailable,         // try again later: draining, loading (503)
  kDataLoss,            // a file is corrupt or truncated (500 if it reaches a request)
  kDeadlineExceeded,    // (504)
  kCancelled,           // the client went away (499)
  kPayloadTooLarge,     // a body or input over its size limit (413)
};

std::string_view StatusCodeName(StatusCode code);
int HttpStatusFor(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  std::string_view message() const { return rep_ ? std::string_view(rep_->message) : ""; }

  // "CODE_NAME: message", or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "context: message"; OK stays OK.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  // Shared and immutable: copying an error is a refcount bump, OK is a null pointer.
  std::shared_ptr<const Rep> rep_;
};

Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status PermissionDeniedError(std::string message);
Status UnauthenticatedError(std::string message);
Status ResourceExhaustedError(std::string message);
Status FailedPreconditionError(std::string message);
Status OutOfRangeError(std::string message);
Status UnimplementedError(std::string message);
Status InternalError(std::string message);
Status UnavailableError(std::string message);
Status DataLossError(std::string message);
Status DeadlineExceededError(std::string message);
Status CancelledError(std::string message);
Status PayloadTooLargeError(std::string message);

// Either a T or a non-OK Status. Accessing the value of an error is a broken invariant
// (CHECK failure), so callers test ok() first or use DSI_ASSIGN_OR_RETURN.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : data_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    DSI_CHECK_MSG(!std::get<Status>(data_).ok(), "StatusOr built from an OK Status");
  }
  StatusOr(T value) : data_(std::move(value)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(data_); }

  const Status& status() const& {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(data_);
  }
  Status status() && { return ok() ? Status() : std::move(std::get<Status>(data_)); }

  const T& value() const& { return CheckedValue(); }
  T& value() & { return const_cast<T&>(CheckedValue()); }
  T&& value() && { return std::move(const_cast<T&>(CheckedValue())); }

  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  const T& CheckedValue() const {
    DSI_CHECK_MSG(ok(), "value() of an error StatusOr: %s",
                  std::get<Status>(data_).ToString().c_str());
    return std::get<T>(data_);
  }

  std::variant<Status, T> data_;
};

}  // namespace dsinfer

#define DSI_STATUS_CONCAT_INNER_(a, b) a##b
#define DSI_STATUS_CONCAT_(a, b) DSI_STATUS_CONCAT_INNER_(a, b)

// Returns the Status of `expr` from the enclosing function if it is not OK.
#define DSI_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::dsinfer::Status dsi_status_ = (expr);    \
    if (!dsi_status_.ok()) return dsi_status_; \
  } while (false)

// `DSI_ASSIGN_OR_RETURN(auto x, MaybeX());` declares x from the value or returns the error.
#define DSI_ASSIGN_OR_RETURN(lhs, expr) \
  DSI_ASSIGN_OR_RETURN_IMPL_(DSI_STATUS_CONCAT_(dsi_statusor_, __LINE__), lhs, expr)
#define DSI_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return std::move(tmp).status();   \
  lhs = std::move(tmp).value()

#endif  // DSINFER_BASE_STATUS_H_
