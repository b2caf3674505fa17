#include "server/server.h"

#include <random>
#include <utility>

#include <fmt/format.h>

#include "base/check.h"

namespace dsinfer::server {
namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kPrometheusText = "text/plain; version=0.0.4; charset=utf-8";

HttpResponse JsonReply(int status, std::string body) {
  return {.status = status, .content_type = std::string(kJson), .body = std::move(body)};
}

}  // namespace

Server::Server(telemetry::AccessLog* access_log) : access_log_(access_log) {
  std::random_device random;
  id_prefix_ = (uint64_t{random()} << 32) | random();
}

Server::~Server() { Stop(); }

StatusOr<std::unique_ptr<Server>> Server::Start(const HttpServerOptions& http,
                                                telemetry::AccessLog* access_log) {
  std::unique_ptr<Server> server(new Server(access_log));
  server->AddRoutes();
  server->max_body_bytes_ = http.max_body_bytes;
  HttpServerOptions options = http;
  Server* self = server.get();
  // The HTTP layer's own answers (400 unparseable, 408, 413, 431) in OpenAI's shape too.
  options.error_body = [self](int status, std::string_view message) {
    if (status == 413) return ErrorJson(PayloadTooLarge(self->max_body_bytes_));
    return ErrorJson({.http_status = status,
                      .type = status >= 500 ? "server_error" : "invalid_request_error",
                      .message = std::string(message)});
  };
  options.on_protocol_error = [self](int status, std::string_view /*remote*/) {
    self->metrics_.CountRequest("other", status);
  };
  DSI_ASSIGN_OR_RETURN(
      server->http_,
      HttpServer::Start(options,
                        [self](HttpRequest request, const std::shared_ptr<HttpExchange>& exchange) {
                          self->Handle(std::move(request), exchange);
                        }));
  return server;
}

void Server::AddRoutes() {
  router_.Add("GET", "/health", [this](HttpRequest& request, const auto& exchange) {
    Reply(request, "/health", exchange, JsonReply(200, R"({"status":"ok"})"));
  });
  router_.Add("GET", "/ready", [this](HttpRequest& request, const auto& exchange) {
    if (draining_.load()) {
      Reply(request, "/ready", exchange, JsonReply(503, R"({"status":"draining"})"));
    } else if (backend() == nullptr) {
      Reply(request, "/ready", exchange, JsonReply(503, R"({"status":"loading"})"));
    } else {
      Reply(request, "/ready", exchange, JsonReply(200, R"({"status":"ready"})"));
    }
  });
  router_.Add("GET", "/metrics", [this](HttpRequest& request, const auto& exchange) {
    const Backend* loaded = backend();
    const engine::EngineStats stats =
        loaded != nullptr ? loaded->engine->Stats() : engine::EngineStats{};
    const telemetry::HttpStats http{.open_connections = http_->open_connections(),
                                    .active_requests = http_->active_requests(),
                                    .draining = draining_.load()};
    Reply(request, "/metrics", exchange,
          {.status = 200,
           .content_type = std::string(kPrometheusText),
           .body = metrics_.Exposition(stats, http)});
  });
  router_.Add("GET", "/v1/models", [this](HttpRequest& request, const auto& exchange) {
    HandleModels("/v1/models", {}, request, exchange);
  });
  router_.Add("GET", "/v1/models/*", [this](HttpRequest& request, const auto& exchange) {
    const std::string_view id = std::string_view(request.path).substr(sizeof("/v1/models/") - 1);
    HandleModels("/v1/models/*", id, request, exchange);
  });
  router_.Add("POST", "/v1/chat/completions", [this](HttpRequest& request, const auto& exchange) {
    HandleGeneration(ApiKind::kChat, "/v1/chat/completions", request, exchange);
  });
  router_.Add("POST", "/v1/completions", [this](HttpRequest& request, const auto& exchange) {
    HandleGeneration(ApiKind::kCompletion, "/v1/completions", request, exchange);
  });
}

void Server::Handle(HttpRequest request, const std::shared_ptr<HttpExchange>& exchange) {
  const RouteMatch match = router_.Find(request.method, request.path);
  if (match.route == nullptr) {
    ReplyError(request, match.name, exchange,
               match.status == 405 ? MethodNotAllowed(request.method, request.path)
                                   : PathNotFound(request.path));
    return;
  }
  match.route->handler(request, exchange);
}

void Server::HandleModels(const std::string& route, std::string_view id, HttpRequest& request,
                          const std::shared_ptr<HttpExchange>& exchange) {
  const Backend* loaded = backend();
  if (loaded == nullptr) {
    ReplyError(request, route, exchange, Unavailable("the model is still loading"));
  } else if (route == "/v1/models") {
    Reply(request, route, exchange, JsonReply(200, ModelsJson(loaded->model)));
  } else if (id == loaded->model.id) {
    Reply(request, route, exchange, JsonReply(200, ModelJson(loaded->model)));
  } else {
    ReplyError(request, route, exchange, ModelNotFound(id));
  }
}

void Server::HandleGeneration(ApiKind kind, const std::string& route, HttpRequest& request,
                              const std::shared_ptr<HttpExchange>& exchange) {
  if (draining_.load()) {
    ReplyError(request, route, exchange, Unavailable("the server is shutting down"));
    return;
  }
  const Backend* loaded = backend();
  if (loaded == nullptr) {
    ReplyError(request, route, exchange, Unavailable("the model is still loading"));
    return;
  }
  ApiOr<ParsedRequest> parsed = ParseRequest(kind, request.body, loaded->model);
  if (!parsed.ok()) {
    ReplyError(request, route, exchange, parsed.error());
    return;
  }
  GenerationCall::Run({.engine = loaded->engine,
                       .model = &loaded->model,
                       .metrics = &metrics_,
                       .access_log = access_log_},
                      route, NextRequestId(), std::move(parsed).value(), request, exchange);
}

void Server::Reply(const HttpRequest& request, std::string_view route,
                   const std::shared_ptr<HttpExchange>& exchange, HttpResponse response) {
  const int status = response.status;
  const std::string request_id = NextRequestId();
  response.headers.push_back({"X-Request-Id", request_id});
  exchange->Respond(std::move(response));
  metrics_.CountRequest(route, status);
  if (access_log_ != nullptr) {
    access_log_->Write(
        {.time = request.arrived_wall,
         .request_id = request_id,
         .method = request.method,
         .route = request.path,
         .status = status,
         .remote = request.remote,
         .duration_seconds =
             std::chrono::duration<double>(MonotonicClock::now() - request.arrived).count()});
  }
}

void Server::ReplyError(const HttpRequest& request, std::string_view route,
                        const std::shared_ptr<HttpExchange>& exchange, const ApiError& error) {
  Reply(request, route, exchange, JsonReply(error.http_status, ErrorJson(error)));
}

std::string Server::NextRequestId() {
  return fmt::format("{:08x}{:08x}", id_prefix_ & 0xffffffffU,
                     next_request_.fetch_add(1) & 0xffffffffU);
}

void Server::SetBackend(ServedModel model, engine::Engine* engine) {
  DSI_CHECK_MSG(backend_ == nullptr, "Server::SetBackend called twice");
  backend_ = std::make_unique<Backend>(Backend{.model = std::move(model), .engine = engine});
  backend_ptr_.store(backend_.get(), std::memory_order_release);
}

bool Server::ready() const { return backend() != nullptr && !draining_.load(); }

void Server::Drain() {
  if (draining_.exchange(true)) return;
  http_->Drain();
  if (const Backend* loaded = backend(); loaded != nullptr) loaded->engine->Drain();
}

bool Server::WaitUntilIdle(std::chrono::milliseconds timeout) {
  return http_->WaitUntilIdle(timeout);
}

void Server::Stop() {
  if (http_ != nullptr) http_->Stop();
}

}  // namespace dsinfer::server
