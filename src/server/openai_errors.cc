// OpenAI's error objects, response ids and the /v1/models listing.
#include <fmt/format.h>

#include "server/openai_api.h"

namespace dsinfer::server {
namespace {

using Json = nlohmann::ordered_json;

Json NullOr(const std::optional<std::string>& value) {
  return value.has_value() ? Json(*value) : Json(nullptr);
}

// OpenAI's "type" for a status: client errors are invalid_request_error, except the few it
// names on their own.
std::string TypeForStatus(int http_status) {
  switch (http_status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 429: return "rate_limit_error";
    default: return http_status >= 500 ? "server_error" : "invalid_request_error";
  }
}

}  // namespace

std::string ErrorJson(const ApiError& error) {
  Json body = {{"error",
                {{"message", error.message},
                 {"type", error.type},
                 {"param", NullOr(error.param)},
                 {"code", NullOr(error.code)}}}};
  // Messages may quote the client's bytes; replace rather than throw on bad UTF-8.
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

ApiError BadRequest(std::string message, std::optional<std::string> param,
                    std::optional<std::string> code) {
  return ApiError{.http_status = 400,
                  .type = "invalid_request_error",
                  .message = std::move(message),
                  .param = std::move(param),
                  .code = std::move(code)};
}

ApiError ModelNotFound(std::string_view model) {
  return ApiError{.http_status = 404,
                  .type = "invalid_request_error",
                  .message = fmt::format("The model `{}` does not exist.", model),
                  .param = "model",
                  .code = "model_not_found"};
}

ApiError PathNotFound(std::string_view path) {
  return ApiError{.http_status = 404,
                  .type = "invalid_request_error",
                  .message = fmt::format("Unknown request URL: {}.", path),
                  .param = std::nullopt,
                  .code = "unknown_url"};
}

ApiError MethodNotAllowed(std::string_view method, std::string_view path) {
  return ApiError{.http_status = 405,
                  .type = "invalid_request_error",
                  .message = fmt::format("Method {} is not allowed for {}.", method, path),
                  .param = std::nullopt,
                  .code = "method_not_allowed"};
}

ApiError PayloadTooLarge(int64_t limit_bytes) {
  return ApiError{
      .http_status = 413,
      .type = "invalid_request_error",
      .message = fmt::format("The request body is larger than the limit of {} bytes.", limit_bytes),
      .param = std::nullopt,
      .code = "request_too_large"};
}

ApiError TooManyRequests(std::string message) {
  return ApiError{.http_status = 429,
                  .type = "rate_limit_error",
                  .message = std::move(message),
                  .param = std::nullopt,
                  .code = "rate_limit_exceeded"};
}

ApiError Unavailable(std::string message) {
  return ApiError{.http_status = 503,
                  .type = "server_error",
                  .message = std::move(message),
                  .param = std::nullopt,
                  .code = "service_unavailable"};
}

ApiError ErrorFromStatus(const Status& status, std::optional<std::string> param) {
  const int http_status = status.ok() ? 500 : HttpStatusFor(status.code());
  if (http_status == 429) return TooManyRequests(std::string(status.message()));
  if (http_status == 503) return Unavailable(std::string(status.message()));
  return ApiError{.http_status = http_status,
                  .type = TypeForStatus(http_status),
                  .message = status.ok() ? "internal error" : std::string(status.message()),
                  .param = std::move(param),
                  .code = std::nullopt};
}

std::string ResponseId(ApiKind kind, std::string_view unique) {
  return fmt::format("{}{}", kind == ApiKind::kChat ? "chatcmpl-" : "cmpl-", unique);
}

namespace {

Json ModelObject(const ServedModel& model) {
  // vLLM adds root and max_model_len; OpenAI's clients ignore fields they do not know.
  return Json{{"id", model.id},
              {"object", "model"},
              {"created", model.created},
              {"owned_by", model.owned_by},
              {"root", model.id},
              {"parent", nullptr},
              {"max_model_len", model.max_model_len}};
}

}  // namespace

std::string ModelJson(const ServedModel& model) {
  return ModelObject(model).dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string ModelsJson(const std::vector<const ServedModel*>& models) {
  Json data = Json::array();
  for (const ServedModel* model : models) data.push_back(ModelObject(*model));
  return Json{{"object", "list"}, {"data", std::move(data)}}.dump(-1, ' ', false,
                                                                  Json::error_handler_t::replace);
}

std::string ModelsJson(const ServedModel& model) { return ModelsJson({&model}); }

}  // namespace dsinfer::server
