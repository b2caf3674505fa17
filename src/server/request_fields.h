// RequestFields: typed, checked reads of an OpenAI request body's fields, with errors worded
// and located the way OpenAI words them ("'temperature' must be a number, got \"hot\"", param
// "temperature"). Internal to server/.
//
// Conventions (OpenAI's, through its pydantic-style validation):
//  * a null field is the same as an absent one: the output keeps its default;
//  * integers may be written as integral floats (4.0), never as fractions or strings;
//  * ranges are checked here, so the message names the field as the client spelled it.
//
// Thread safety: reads only; the object must outlive the reader.
#ifndef DSINFER_SERVER_REQUEST_FIELDS_H_
#define DSINFER_SERVER_REQUEST_FIELDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "server/openai_api.h"

namespace dsinfer::server {

using Json = nlohmann::ordered_json;
using MaybeError = std::optional<ApiError>;

// Returns the ApiError of `expr` (a MaybeError) from the enclosing function, if there is one.
#define DSI_RETURN_IF_API_ERROR(expr)                            \
  do {                                                           \
    if (::dsinfer::server::MaybeError dsi_api_error_ = (expr)) { \
      return *std::move(dsi_api_error_);                         \
    }                                                            \
  } while (false)

// A short, printable rendering of an untrusted value: its JSON text cut at 60 bytes.
std::string DescribeValue(const Json& value);

// The integer `value` holds (an integer, or an integral float in int64 range), or nullopt.
std::optional<int64_t> IntegerValue(const Json& value);

// 400 "'PATH' must be EXPECTED, got VALUE", param PATH.
ApiError TypeError(std::string_view path, std::string_view expected, const Json& got);
// 400 "'PATH' WHAT", param PATH.
ApiError FieldError(std::string_view path, std::string_view what);

class RequestFields {
 public:
  // `prefix` names the object in errors: "" for the body, "stream_options." for a member.
  explicit RequestFields(const Json& object, std::string prefix = "")
      : object_(object), prefix_(std::move(prefix)) {}

  // The value of `key`, or nullptr when it is absent or null.
  const Json* Find(std::string_view key) const;
  // "PREFIXkey", the name errors use.
  std::string Path(std::string_view key) const { return prefix_ + std::string(key); }

  // Numbers in [lo, hi]; `lo_open` makes it (lo, hi]. Written so that NaN fails.
  MaybeError Number(std::string_view key, double lo, double hi, bool lo_open, float* out) const;
  MaybeError Integer(std::string_view key, int64_t lo, int64_t hi,
                     std::optional<int64_t>* out) const;
  MaybeError Bool(std::string_view key, bool* out) const;
  MaybeError String(std::string_view key, std::optional<std::string>* out) const;

 private:
  const Json& object_;
  std::string prefix_;
};

}  // namespace dsinfer::server

#endif  // DSINFER_SERVER_REQUEST_FIELDS_H_
