#include "base/status.h"

#include <string>

namespace dsinfer {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case StatusCode::kNotFound: return "NOT_FOUND";
    case StatusCode::kAlreadyExists: return "ALREADY_EXISTS";
    case StatusCode::kPermissionDenied: return "PERMISSION_DENIED";
    case StatusCode::kUnauthenticated: return "UNAUTHENTICATED";
    case StatusCode::kResourceExhausted: return "RESOURCE_EXHAUSTED";
    case StatusCode::kFailedPrecondition: return "FAILED_PRECONDITION";
    case StatusCode::kOutOfRange: return "OUT_OF_RANGE";
    case StatusCode::kUnimplemented: return "UNIMPLEMENTED";
    case StatusCode::kInternal: return "INTERNAL";
    case StatusCode::kUnavailable: return "UNAVAILABLE";
    case StatusCode::kDataLoss: return "DATA_LOSS";
    case StatusCode::kDeadlineExceeded: return "DEADLINE_EXCEEDED";
    case StatusCode::kCancelled: return "CANCELLED";
    case StatusCode::kPayloadTooLarge: return "PAYLOAD_TOO_LARGE";
  }
  return "UNKNOWN";
}

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kOutOfRange: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kPayloadTooLarge: return 413;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kCancelled: return 499;
    case StatusCode::kUnimplemented: return 501;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    case StatusCode::kInternal:
    case StatusCode::kDataLoss: return 500;
  }
  return 500;
}

Status::Status(StatusCode code, std::string message) {
  if (code != StatusCode::kOk) rep_ = std::make_shared<const Rep>(Rep{code, std::move(message)});
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(StatusCodeName(code()));
  out += ": ";
  out += message();
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string msg(context);
  msg += ": ";
  msg += message();
  return Status(code(), std::move(msg));
}

#define DSI_DEFINE_ERROR_(Name, Code) \
  Status Name(std::string message) { return Status(StatusCode::Code, std::move(message)); }
DSI_DEFINE_ERROR_(InvalidArgumentError, kInvalidArgument)
DSI_DEFINE_ERROR_(NotFoundError, kNotFound)
DSI_DEFINE_ERROR_(AlreadyExistsError, kAlreadyExists)
DSI_DEFINE_ERROR_(PermissionDeniedError, kPermissionDenied)
DSI_DEFINE_ERROR_(UnauthenticatedError, kUnauthenticated)
DSI_DEFINE_ERROR_(ResourceExhaustedError, kResourceExhausted)
DSI_DEFINE_ERROR_(FailedPreconditionError, kFailedPrecondition)
DSI_DEFINE_ERROR_(OutOfRangeError, kOutOfRange)
DSI_DEFINE_ERROR_(UnimplementedError, kUnimplemented)
DSI_DEFINE_ERROR_(InternalError, kInternal)
DSI_DEFINE_ERROR_(UnavailableError, kUnavailable)
DSI_DEFINE_ERROR_(DataLossError, kDataLoss)
DSI_DEFINE_ERROR_(DeadlineExceededError, kDeadlineExceeded)
DSI_DEFINE_ERROR_(CancelledError, kCancelled)
DSI_DEFINE_ERROR_(PayloadTooLargeError, kPayloadTooLarge)
#undef DSI_DEFINE_ERROR_

}  // namespace dsinfer
